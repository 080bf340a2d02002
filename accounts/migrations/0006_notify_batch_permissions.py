"""Grants notify's batch creation (新建短信批次, ``notify.add_smsbatch``) to the roles that send SMS.

Same pattern as 0005: notify imports no app of ours, so its role grants live here; permissions are
created first because they normally appear only after all migrations (post_migrate).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_notify_batch_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("notify"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_notify_permissions"),
        ("notify", "0002_batch_branch_gateway_template"),
    ]

    operations = [migrations.RunPython(grant_notify_batch_permissions, migrations.RunPython.noop)]
