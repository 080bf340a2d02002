"""Grants 用户与岗位 (``accounts.manage_roles``) to the information centre, and the confirmation of role grants
under the two-person rule (``accounts.decide_rolegrantrequest``) to it and to the supervisors (accounts/roles.py).

Same pattern as 0002: permissions normally appear after all migrations (post_migrate), so they are created here
first.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_role_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("accounts"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_rolegrantrequest"),
    ]

    operations = [migrations.RunPython(grant_role_permissions, migrations.RunPython.noop)]
