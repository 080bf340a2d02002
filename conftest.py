"""Fixtures every test may use: the fixed personas of STYLE.md and a signed-in client for each.

Personas: an officer of branch A and one of branch B (税源管理分局), a refund officer,
a service officer, a supervisor and an admin. Branch A and B each manage taxpayers.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.models import Branch, User
from accounts.roles import RoleCode, sync_role_groups
from taxpayers.tests.factories import BranchFactory, TaxpayerFactory

PERSONAS = {
    "officer_a": (RoleCode.BRANCH_OFFICER, "branch_a"),
    "officer_b": (RoleCode.BRANCH_OFFICER, "branch_b"),
    "refund_officer": (RoleCode.REFUND_OFFICER, "section"),
    "service_officer": (RoleCode.SERVICE_OFFICER, "section"),
    "risk_officer": (RoleCode.RISK_OFFICER, "section"),
    "credit_officer": (RoleCode.CREDIT_OFFICER, "section"),
    "supervisor": (RoleCode.SUPERVISOR, "bureau"),
    "admin": (RoleCode.ADMIN, "bureau"),
}


@pytest.fixture
def org(db):
    bureau = Branch.objects.create(code="BUR", name="示范县税务局", kind=Branch.Kind.BUREAU)
    section = Branch.objects.create(code="SEC1", name="税政一股", kind=Branch.Kind.SECTION, parent=bureau)
    branch_a = BranchFactory(code="BRA", name="城东税务分局", parent=bureau)
    branch_b = BranchFactory(code="BRB", name="城西税务分局", parent=bureau)
    return {"bureau": bureau, "section": section, "branch_a": branch_a, "branch_b": branch_b}


@pytest.fixture
def personas(org):
    # A transactional test's flush removes the groups the data migration made.
    sync_role_groups(group_model=Group, permission_model=Permission)
    users = {}
    for username, (role, unit) in PERSONAS.items():
        user = User.objects.create_user(username=username, password="test-pass-123", full_name=username)
        user.branch = org[unit]
        user.is_staff = role == RoleCode.ADMIN  # as accounts.services gives it: the admin site is 信息中心's
        user.save()
        user.groups.add(Group.objects.get(name=role.value))
        users[username] = user
    return users


@pytest.fixture
def taxpayer_a(org):
    return TaxpayerFactory(branch=org["branch_a"], name="城东精密机械有限公司")


@pytest.fixture
def taxpayer_b(org):
    return TaxpayerFactory(branch=org["branch_b"], name="城西新材料有限公司")


@pytest.fixture
def client_for(personas, client):
    """``client_for("officer_a")`` is a test client signed in as that persona (``None``: anonymous)."""

    def make(username):
        from django.test import Client

        c = Client()
        if username is not None:
            c.force_login(personas[username])
        return c

    return make
