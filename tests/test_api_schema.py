"""Property-based tests of the whole API against the schema it serves (schemathesis over drf-spectacular).

The schema is fetched from ``/api/schema/`` and every operation in it is called in-process through Django's
WSGI application, as a refund officer with an API token, with requests generated from the schema (valid and
invalid ones). Every response must be documented: no server error, a documented status code, a documented
content type, a body matching the documented schema.

The database holds a few taxpayers with returns (eligible for a 2026-03 refund) and their applications, and a
generated request sometimes names one of them (an identifier or an application id), so that the requests reach
the real code paths and not only the 404s of random identifiers.

The refusals the generated requests cannot provoke (no token, an expired one, a role without the API, the rate
limit) are checked the same way, once per operation.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation

from accounts.models import User
from credit.tests.factories import TaxpayerFactory
from refund.tests.applications import PERIOD, RECEIVED_ON, eligible_taxpayer, ineligible_taxpayer, receive
from taxpayers.tests.factories import VatReturnFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

PERSONA = "refund_officer"  # may read taxpayers and applications and receive applications


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, in the test's transaction: like the test client, it must not close the
    connection at the end of a request (that would end the transaction every test runs in)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(personas, org):
    """Taxpayers with returns in both branches (eligible for 2026-03, rated C, a small history), two applications."""
    officer = personas[PERSONA]
    eligible = [eligible_taxpayer(org["branch_a"]), eligible_taxpayer(org["branch_b"])]
    refused = ineligible_taxpayer(org["branch_a"])
    plain = TaxpayerFactory(branch=org["branch_b"], credit_level="B", industry_code="F5211")
    VatReturnFactory(taxpayer=plain, period="2026-01")
    applications = [receive(officer, eligible[0]), receive(officer, refused, claimed=1)]
    taxpayers = [*eligible, refused, plain]
    return {
        "identifiers": [t.identifier for t in taxpayers],
        "taxpayer_ids": [t.pk for t in taxpayers],
        "application_ids": [a.pk for a in applications],
    }


@pytest.fixture
def api_schema(personas, api_data, wsgi_app):
    token = Token.objects.create(user=personas[PERSONA])
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers)
    schema.config.update(headers=headers)

    @schema.hook
    def flatmap_case(context, case):
        """Half the generated requests as they are, half aimed at rows that exist."""
        aimed = st.integers(min_value=0, max_value=100).map(lambda pick: _aim_at_rows_that_exist(case, pick, api_data))
        return st.one_of(st.just(case), aimed)

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32.5 reads and rewrites ``Node._nodeid``, which pytest 9.2 renamed (``Node.nodeid`` is
    the public name): give it the attribute it expects. Its rewrites only relabel the per-operation reports."""
    request.node._nodeid = request.node.nodeid


def _aim_at_rows_that_exist(case, pick: int, api_data: dict):
    """A valid path names a taxpayer or application that exists, and a valid application body claims for one of
    the taxpayers in the period its returns support (claimed amount and kind stay generated: accepted, refused or
    a duplicate). Invalid parts stay as generated, so that they are still refused."""
    meta = case.meta
    if meta is None:
        return case
    identifier = api_data["identifiers"][pick % len(api_data["identifiers"])]
    if not meta.is_negative_at(ParameterLocation.PATH):
        if "id" in case.path_parameters and "/taxpayers/" in case.operation.path:
            case.path_parameters["id"] = api_data["taxpayer_ids"][pick % len(api_data["taxpayer_ids"])]
        elif "id" in case.path_parameters:
            case.path_parameters["id"] = api_data["application_ids"][pick % len(api_data["application_ids"])]
    body = case.body
    if isinstance(body, dict) and "taxpayer_identifier" in body and not meta.is_negative_at(ParameterLocation.BODY):
        body.update(taxpayer_identifier=identifier, application_period=PERIOD, received_on=RECEIVED_ON.isoformat())
    return case


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case):
    case.call_and_validate(checks=CHECKS)


def _caller_headers(caller: str, officer_token: Token, org: dict) -> dict:
    token = officer_token
    if caller == "anonymous":
        return {}
    if caller == "unknown token":
        return {"Authorization": "Token 0000000000000000000000000000000000000000"}
    if caller == "expired token":
        Token.objects.filter(pk=token.pk).update(created=timezone.now() - dt.timedelta(days=2))
    elif caller == "no role":
        user = User.objects.create_user(username="nobody", password="x-long-password", branch=org["branch_a"])
        token = Token.objects.create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("caller", "status"),
    [("anonymous", 401), ("unknown token", 401), ("expired token", 401), ("no role", 403), ("over the rate", 429)],
)
def test_refusals_are_documented(caller, status, personas, org, api_data, wsgi_app, settings):
    """Every operation refuses a caller without a (live) token, a role without the API and a caller over the rate
    limit with the status, headers (WWW-Authenticate, Retry-After) and body that its schema documents."""
    officer = Token.objects.create(user=personas[PERSONA])
    loaded = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {officer.key}"}
    )
    if caller == "over the rate":
        settings.API_THROTTLE_RATES = {"sign_in": "0/min", "api_user": "0/min", "api_anon": "0/min"}
    headers = _caller_headers(caller, officer, org)
    called = []
    for result in loaded.get_all_operations():
        operation = result.ok()
        if status in (401, 403) and not operation.definition.raw.get("security"):
            continue  # the token endpoint takes no token
        body = {"username": "x", "password": "y"} if operation.path == "/api/token/" else {}
        case = operation.Case(
            path_parameters={"id": api_data["application_ids"][0]},  # refused before any lookup
            body=body if operation.method.upper() == "POST" else NOT_SET,
            media_type="application/json" if operation.method.upper() == "POST" else None,
        )
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == status, (operation.label, response.text)
        called.append(operation.label)
    assert len(called) >= 6, called
