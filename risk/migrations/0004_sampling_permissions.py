"""Grants the post-refund review's permissions (事后复核) to the roles in accounts/roles.py: 风险管理股 sets the
sample's parameters and draws a month's sample; 局领导 views and exports the samples."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_sampling_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("risk"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_paid_scans_and_sampling")]

    operations = [migrations.RunPython(grant_sampling_permissions, migrations.RunPython.noop)]
