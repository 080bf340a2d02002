"""Grants the permissions of 集体会商 to the roles in accounts/roles.py: 风险管理股 opens, hosts, decides and
exports; 税政一股, 法制岗 and the branches give their opinions; 局领导 views and exports."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_consultation_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("risk"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_legal_officer_role"),
        ("risk", "0005_consultations"),
    ]

    operations = [migrations.RunPython(grant_consultation_permissions, migrations.RunPython.noop)]
