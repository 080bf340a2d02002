"""Grants the 留抵退税申请 (refund) and 退税台账 (ledger) permissions to the roles in accounts/roles.py."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_application_and_ledger_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    for label in ("refund", "ledger"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_notify_batch_permissions"),
        ("refund", "0006_applications"),
        ("ledger", "0002_entry_links"),
    ]

    operations = [migrations.RunPython(grant_application_and_ledger_permissions, migrations.RunPython.noop)]
