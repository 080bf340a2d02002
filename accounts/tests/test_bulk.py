"""Setting up the organisation in bulk (accounts/bulk.py): idempotent, and staff follows the admin role."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.bulk import Login, OrgUnit, branches_ensure, logins_ensure
from accounts.models import Branch, User
from accounts.roles import sync_role_groups
from core.errors import ApplicationError

UNITS = (
    OrgUnit("B0", "某县税务局", "bureau", 0),
    OrgUnit("S1", "信息中心", "section", 10, "B0"),
    OrgUnit("F1", "城东税务分局", "branch", 100, "B0"),
)
LOGINS = (
    Login("it", "admin", "S1", "孙浩", "13905710701"),
    Login("east", "branch_officer", "F1", "赵磊", "13905710201"),
)


@pytest.fixture(autouse=True)
def role_groups(db):
    """As the migrations make them (a transactional test's flush, earlier in the worker, may have removed them)."""
    sync_role_groups(group_model=Group, permission_model=Permission)


@pytest.mark.django_db
def test_units_and_logins_are_created_once_and_brought_back_to_the_given_values():
    units = branches_ensure(units=UNITS)
    assert units["F1"].parent == units["B0"] and Branch.objects.count() == 3
    users = logins_ensure(logins=LOGINS, password="a-long-demo-password")
    assert [(u.username, u.is_staff, u.branch.code) for u in users] == [("it", True, "S1"), ("east", False, "F1")]
    assert users[1].check_password("a-long-demo-password") and users[1].role_labels == ["税源管理分局"]

    User.objects.filter(username="east").update(is_active=False, full_name="改过")
    branches_ensure(units=UNITS)
    logins_ensure(logins=LOGINS, password="a-long-demo-password")
    east = User.objects.get(username="east")
    assert (east.is_active, east.full_name, Branch.objects.count(), User.objects.count()) == (True, "赵磊", 3, 2)


@pytest.mark.django_db
def test_an_unknown_unit_kind_parent_or_role_is_refused():
    with pytest.raises(ApplicationError, match="机构类型"):
        branches_ensure(units=[OrgUnit("X", "某", "office", 0)])
    with pytest.raises(ApplicationError, match="上级机构"):
        branches_ensure(units=[OrgUnit("X", "某", "branch", 0, "NOPE")])
    branches_ensure(units=UNITS)
    with pytest.raises(ApplicationError, match="岗位"):
        logins_ensure(logins=[Login("x", "janitor", "F1", "某", "")], password="a-long-demo-password")
    assert not User.objects.exists()
