"""Lets those who read the role grants of the two-person rule read the password resets under it too
(``accounts.view_passwordresetrequest``: the information centre and the supervisors, accounts/roles.py).

Same pattern as 0008: permissions normally appear after all migrations (post_migrate), so they are created here
first.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_reset_permissions(apps, schema_editor):
    from accounts.roles import sync_role_groups

    create_permissions(global_apps.get_app_config("accounts"), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_password_reset"),
    ]

    operations = [migrations.RunPython(grant_reset_permissions, migrations.RunPython.noop)]
