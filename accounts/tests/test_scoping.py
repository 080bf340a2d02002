"""The scoping gateway, tried on accounts' own rows: an account belongs to a branch as a taxpayer does, so the
gateway scopes ``User`` rows by their ``branch`` the way every selector scopes its app's rows."""

import pytest
from django.http import Http404

from accounts.models import User
from accounts.scoping import get_for_user_or_404, scope_to_user, visible_branch_ids


@pytest.fixture
def members(org):
    """One account in 城东 and one in 城西: the rows to scope (no role of their own)."""
    member_a = User.objects.create_user(username="member_a", password="x", branch=org["branch_a"])
    member_b = User.objects.create_user(username="member_b", password="x", branch=org["branch_b"])
    return member_a, member_b


def _rows():
    return User.objects.filter(username__startswith="member_").order_by("username")


@pytest.mark.django_db
def test_branch_officer_sees_only_own_branch(personas, members):
    member_a, member_b = members
    visible = scope_to_user(_rows(), user=personas["officer_a"])
    assert list(visible) == [member_a]
    with pytest.raises(Http404):
        get_for_user_or_404(_rows(), user=personas["officer_a"], pk=member_b.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["refund_officer", "service_officer", "supervisor", "admin"])
def test_bureau_roles_see_every_branch(personas, members, username):
    assert visible_branch_ids(personas[username]) is None
    assert scope_to_user(_rows(), user=personas[username]).count() == 2


@pytest.mark.django_db
def test_user_without_role_sees_nothing(org, members):
    nobody = User.objects.create_user(username="nobody", password="x", branch=org["branch_a"])
    assert scope_to_user(_rows(), user=nobody).count() == 0


@pytest.mark.django_db
def test_inactive_user_sees_nothing(personas, taxpayer_a):
    user = personas["supervisor"]
    user.is_active = False
    assert visible_branch_ids(user) == set()


@pytest.mark.django_db
def test_migrations_grant_every_role_exactly_its_permissions():
    """After all migrations each role's group holds every permission accounts/roles.py lists."""
    from django.contrib.auth.models import Group

    from accounts.roles import ROLES

    for role in ROLES.values():
        group = Group.objects.get(name=role.code.value)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(role.permissions), role.code
