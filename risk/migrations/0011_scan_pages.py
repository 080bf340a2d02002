"""The scans' pages: the export permission of hits, granted with the branch officers' view of scans and hits to the
roles in accounts/roles.py; an index for an indicator's hits per scan."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant_scan_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("risk"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0010_indicator_code_length"),
        ("taxpayers", "0008_invoice_summary_supplier_input"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="riskhit",
            options={
                "ordering": ["scan", "taxpayer", "indicator_code"],
                "permissions": [("export_riskhit", "可以导出风险疑点")],
                "verbose_name": "风险疑点",
                "verbose_name_plural": "风险疑点",
            },
        ),
        migrations.AddIndex(
            model_name="riskhit",
            index=models.Index(fields=["indicator_code", "scan"], name="risk_hit_indicator_scan"),
        ),
        migrations.RunPython(grant_scan_permissions, migrations.RunPython.noop),
    ]
