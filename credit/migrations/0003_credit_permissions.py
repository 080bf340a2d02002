"""Grants the credit data's permissions to the roles in accounts/roles.py (纳税信用岗 imports and views; the
branches view their own taxpayers' ratings and events; 局领导 views)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_credit_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("credit"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_password_reset_permissions"),
        ("credit", "0002_ratings_from_credit_level"),
    ]

    operations = [migrations.RunPython(grant_credit_permissions, migrations.RunPython.noop)]
