"""Seeds the refund bill SMS template (退税账单短信) and grants branch officers the ledger of their branch.

The template (notify.MessageTemplate ``ledger_refund_bill``) is created only when missing: once it exists, the
information centre owns its text. Role grants never remove a permission (accounts.roles.sync_role_groups).
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

BILL_BODY = (
    "{taxpayer_name}：您单位的{refund_kind}{amount}元已于{paid_on}办理退库，"
    "请注意查收。如有疑问，请联系{branch_name}。"
)


def seed_bill_template(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.get_or_create(
        code="ledger_refund_bill",
        defaults={
            "name": "留抵退税退库账单",
            "body": BILL_BODY,
            "sign_text": f"【{getattr(settings, 'BUREAU_NAME', '示范县税务局')}】",
            "active": True,
        },
    )


def grant_ledger_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("ledger"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_permissions"),
        ("notify", "0002_batch_branch_gateway_template"),
    ]

    operations = [
        migrations.RunPython(seed_bill_template, migrations.RunPython.noop),
        migrations.RunPython(grant_ledger_permissions, migrations.RunPython.noop),
    ]
