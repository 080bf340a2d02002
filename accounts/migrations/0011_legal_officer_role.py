"""Adds the role 法制岗 (``legal_officer``, accounts/roles.py) to the roles a grant may ask for, and creates it as a
group with the permissions that exist so far; the risk app's migration for 集体会商 grants it the consultation
permissions once they exist.

Same pattern as 0002: permissions normally appear after all migrations (post_migrate), so they are created here
first for the apps the role reads.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def create_legal_officer_role(apps, schema_editor):
    from accounts.roles import sync_role_groups

    for label in ("auth", "accounts", "taxpayers"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_password_reset_permissions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="rolegrantrequest",
            name="role_grant_role_known",
        ),
        migrations.AlterField(
            model_name="rolegrantrequest",
            name="role",
            field=models.CharField(
                choices=[
                    ("refund_officer", "税政一股（留抵退税）"),
                    ("branch_officer", "税源管理分局"),
                    ("service_officer", "纳税服务股"),
                    ("risk_officer", "风险管理股"),
                    ("legal_officer", "法制岗"),
                    ("credit_officer", "纳税信用岗"),
                    ("supervisor", "局领导"),
                    ("admin", "信息中心（系统管理）"),
                ],
                max_length=30,
                verbose_name="岗位",
            ),
        ),
        migrations.AddConstraint(
            model_name="rolegrantrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "role__in",
                        [
                            "refund_officer",
                            "branch_officer",
                            "service_officer",
                            "risk_officer",
                            "credit_officer",
                            "legal_officer",
                            "supervisor",
                            "admin",
                        ],
                    )
                ),
                name="role_grant_role_known",
            ),
        ),
        migrations.RunPython(create_legal_officer_role, migrations.RunPython.noop),
    ]
