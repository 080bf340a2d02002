import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import sync_role_groups


@pytest.fixture(autouse=True)
def role_groups(request):
    """The role groups the demo logins join, as the migrations make them (a transactional test's flush, earlier in
    the same worker, may have removed them; ``personas`` restores them the same way)."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        sync_role_groups(group_model=Group, permission_model=Permission)
