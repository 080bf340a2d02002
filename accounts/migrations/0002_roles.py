"""Creates the bureau's roles as groups with their permissions (see accounts/roles.py).

Permissions normally appear after all migrations (post_migrate), so this migration
creates them first for the apps it needs.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from accounts.roles import sync_role_groups

    for label in ("auth", "accounts", "taxpayers", "django_celery_beat"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    sync_role_groups(group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("taxpayers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
