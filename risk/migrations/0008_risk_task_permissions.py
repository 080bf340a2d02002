"""Grants the risk tasks' permissions to the roles in accounts/roles.py (风险管理股 creates, analyses, assigns,
decides, closes, imports and exports the tasks; 税源管理分局 views and responds to its own branch's; 局领导 views and
exports)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_risk_task_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("risk"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_legal_officer_role"),
        ("risk", "0007_risk_tasks"),
    ]

    operations = [migrations.RunPython(grant_risk_task_permissions, migrations.RunPython.noop)]
