"""Grants the screening permissions (留抵退税筛查: view, run, export) to the roles in accounts/roles.py."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_screening_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("refund"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_notify_permissions"),
        ("refund", "0002_screening_state"),
    ]

    operations = [migrations.RunPython(grant_screening_permissions, migrations.RunPython.noop)]
