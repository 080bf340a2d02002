"""Fixtures every test may use: one fixed persona per role (refund officer, branch officer, service,
risk, credit, leader, admin) and a signed-in client for each.

Personas: an officer of branch A and one of branch B (税源管理分局), a refund officer,
a service officer, a supervisor and an admin. Branch A and B each manage taxpayers.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import TestCase, TransactionTestCase
from pytest_django.plugin import blocking_manager_key

from accounts.models import Branch, User
from accounts.roles import RoleCode, sync_role_groups
from taxpayers.tests.factories import BranchFactory, TaxpayerFactory
from tests.migration_rows import restore_migration_rows

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


TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _flushes(item) -> bool:
    marker = item.get_closest_marker("django_db")
    cls = getattr(item, "cls", None)
    unittest_flushes = (
        isinstance(cls, type) and issubclass(cls, TransactionTestCase) and not issubclass(cls, TestCase)
    )  # a Django TransactionTestCase flushes at its teardown too
    return (
        bool(marker and marker.kwargs.get("transaction"))
        or bool(TRANSACTIONAL_FIXTURES & set(item.fixturenames))
        or unittest_flushes
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield  # every fixture torn down, the flush included
    # After the last test the test database is gone and the settings name the real one again: never write there.
    if nextitem is not None and _flushes(item) and connection.settings_dict["NAME"].startswith("test_"):
        with item.config.stash[blocking_manager_key].unblock():
            restore_migration_rows()
    return result


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped, an end to the sessions that tests' threads and
    processes left open on it (a live server's thread, a worker killed on purpose): else the drop fails."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "risk_grade: the risk library's scan of applications and its grade's effects on approval run"
    )


@pytest.fixture(autouse=True)
def _application_scan_only_where_asked(request):
    """The risk app's scan of each application on arrival and before approval (and what its grade refuses) runs only
    in tests marked ``risk_grade``: elsewhere the workflow is tested on its own, on taxpayers built to be eligible
    whom the indicators rightly grade risky (six months of zero sales and a growing credit). The gate's checks stay."""
    from refund.applications import risk as gate

    scanner = gate.registered_scanner()
    if scanner is None or request.node.get_closest_marker("risk_grade"):
        yield
        return
    gate.unregister_application_scanner()
    try:
        yield
    finally:
        gate.register_application_scanner(scanner)
