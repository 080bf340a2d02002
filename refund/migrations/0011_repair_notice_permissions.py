"""Grants the 信用修复提示 permissions to the roles in accounts/roles.py and seeds the notice's SMS template.

The template (notify.MessageTemplate ``refund_repair_notice``) is created only when missing: once it exists, the
information centre owns its text.
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

NOTICE_BODY = (
    "{taxpayer_name}：经初步筛查，贵单位{period}增值税期末留抵退税仅纳税信用级别（现为{level}级）一项条件不符合，"
    "纳税信用修复至B级后预计可退税{amount}元。可通过电子税务局申请纳税信用修复；如有疑问，请联系{branch_name}。"
)


def grant_repair_notice_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("refund"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


def seed_repair_notice_template(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.get_or_create(
        code="refund_repair_notice",
        defaults={
            "name": "留抵退税信用修复提示",
            "body": NOTICE_BODY,
            "sign_text": f"【{getattr(settings, 'BUREAU_NAME', '示范县税务局')}】",
            "active": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0001_initial"),
        ("refund", "0010_adhoc_lists_repair_notices"),
    ]

    operations = [
        migrations.RunPython(grant_repair_notice_permissions, migrations.RunPython.noop),
        migrations.RunPython(seed_repair_notice_template, migrations.RunPython.noop),
    ]
