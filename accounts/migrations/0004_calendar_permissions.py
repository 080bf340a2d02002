"""Grants the filing-deadline permissions (申报期限) to the roles in accounts/roles.py.

Permissions normally appear after all migrations (post_migrate), so they are created here first.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_calendar_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("taxpayers"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_workerheartbeat"),
        ("taxpayers", "0002_filingdeadline"),
    ]

    operations = [migrations.RunPython(grant_calendar_permissions, migrations.RunPython.noop)]
