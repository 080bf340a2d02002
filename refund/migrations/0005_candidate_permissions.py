"""Grants the 候选名单 permissions to the roles in accounts/roles.py, seeds the reminder SMS template and the
settings row (候选名单设置, edited by the information centre in the admin site).

The template (notify.MessageTemplate ``refund_candidate_reminder``) is created only when missing: once it
exists, the information centre owns its text.
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

REMINDER_BODY = (
    "{taxpayer_name}：经初步筛查，贵单位可能符合{period}增值税期末留抵退税条件。"
    "请按期完成增值税申报后，通过电子税务局提交留抵退税申请；如有疑问，请联系{branch_name}。"
)


def grant_candidate_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("refund"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


def seed_reminder_template(apps, schema_editor):
    template_model = apps.get_model("notify", "MessageTemplate")
    template_model.objects.get_or_create(
        code="refund_candidate_reminder",
        defaults={
            "name": "留抵退税候选纳税人提醒",
            "body": REMINDER_BODY,
            "sign_text": f"【{getattr(settings, 'BUREAU_NAME', '示范县税务局')}】",
            "active": True,
        },
    )


def create_settings_row(apps, schema_editor):
    apps.get_model("refund", "CandidateSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_notify_permissions"),
        ("notify", "0001_initial"),
        ("refund", "0004_candidate_lists"),
    ]

    operations = [
        migrations.RunPython(grant_candidate_permissions, migrations.RunPython.noop),
        migrations.RunPython(seed_reminder_template, migrations.RunPython.noop),
        migrations.RunPython(create_settings_row, migrations.RunPython.noop),
    ]
