"""Grants the 消息通知 permissions (notify: SMS outbox, batches, templates) to the roles in accounts/roles.py.

notify imports no app of ours, so its role grants live here. Permissions normally appear after all
migrations (post_migrate), so they are created here first.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_notify_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    for label in ("notify", "taxpayers"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_calendar_permissions"),
        ("notify", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant_notify_permissions, migrations.RunPython.noop)]
