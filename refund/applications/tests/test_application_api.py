"""The applications API: the core system pushes arrivals (POST needs refund.add_refundapplication), reads are
scoped to the caller's branches (another branch's application is a 404)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, receive

pytestmark = pytest.mark.django_db
LIST = "api:refund-application-list"


def body(taxpayer, **changes) -> dict:
    return {
        "taxpayer_identifier": taxpayer.identifier,
        "application_period": "2026-03",
        "kind": "both",
        "claimed_amount": "1200000.00",
        "received_on": "2026-03-10",
        "document_number": "SQ-API-1",
        **changes,
    }


@pytest.fixture
def apps(personas, org):
    officer = personas["refund_officer"]
    return {
        "a": receive(officer, eligible_taxpayer(org["branch_a"], name="城东申请人")),
        "b": receive(officer, eligible_taxpayer(org["branch_b"], name="城西申请人")),
    }


def test_the_core_system_pushes_an_application(personas, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    token = Token.objects.create(user=personas["refund_officer"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(reverse(LIST), body(taxpayer), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["state"], data["source"], data["computed_amount"]) == ("received", "api", "1200000.00")
    assert data["due_on"] == "2026-03-24" and data["risk_status"] == "clear"
    assert data["transitions"][0]["to_state"] == "received"
    assert data["taxpayer"]["identifier"] != taxpayer.identifier  # masked
    application = RefundApplication.objects.get()
    assert (application.document_number, application.created_by) == ("SQ-API-1", personas["refund_officer"])

    again = client.post(reverse(LIST), body(taxpayer), format="json")
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate_application" and "已受理" in again.json()["message"]
    assert RefundApplication.objects.count() == 1


def test_a_pushed_claim_the_rules_do_not_reproduce_comes_back_returned_with_the_evidence(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(
        reverse(LIST), body(taxpayer, claimed_amount="1300000.00"), content_type="application/json"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["state"] == "returned" and data["risk_status"] == "hit"
    assert data["risk_hits"][0]["code"] == "recomputation_mismatch"
    assert data["risk_hits"][0]["evidence"]["compared_amount"] == "1300000.00"


@pytest.mark.parametrize("username", ["officer_a", "service_officer", "supervisor", None])
def test_posting_needs_the_permission_to_receive(client_for, org, username):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for(username).post(reverse(LIST), body(taxpayer), content_type="application/json")
    assert response.status_code in (401, 403)
    assert not RefundApplication.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "all"}, "kind"),
        ({"application_period": "2026-3"}, "application_period"),
        ({"claimed_amount": "-1"}, "claimed_amount"),
        ({"received_on": "10/03/2026"}, "received_on"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(client_for, org, changes, field):
    taxpayer = eligible_taxpayer(org["branch_a"])
    response = client_for("refund_officer").post(
        reverse(LIST), body(taxpayer, **changes), content_type="application/json"
    )
    assert response.status_code == 400 and field in response.json()


def test_an_unknown_taxpayer_and_a_service_refusal_are_clear_400s(client_for, org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    client = client_for("refund_officer")
    unknown = client.post(
        reverse(LIST), body(taxpayer, taxpayer_identifier="91330106MA0009999X"), content_type="application/json"
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_taxpayer"
    early = client.post(reverse(LIST), body(taxpayer, received_on="2026-02-27"), content_type="application/json")
    assert early.status_code == 400 and "早于申请退税所属期" in early.json()["message"]


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("officer_a", {"城东申请人"}),
        ("officer_b", {"城西申请人"}),
        ("refund_officer", {"城东申请人", "城西申请人"}),
        ("supervisor", {"城东申请人", "城西申请人"}),
    ],
)
def test_the_list_shows_only_the_callers_branches(client_for, apps, username, visible):
    response = client_for(username).get(reverse(LIST))
    assert response.status_code == 200
    assert {row["taxpayer"]["name"] for row in response.json()["results"]} == visible


def test_the_list_filters_by_state_and_refuses_an_unknown_state(client_for, apps):
    client = client_for("refund_officer")
    assert client.get(reverse(LIST), {"state": "approved"}).json()["count"] == 0
    assert client.get(reverse(LIST), {"state": "received"}).json()["count"] == 2
    assert client.get(reverse(LIST), {"state": "nonsense"}).status_code == 400


def test_another_branchs_application_is_a_404(client_for, apps):
    url_a = reverse("api:refund-application-detail", args=[apps["a"].pk])
    assert client_for("officer_b").get(url_a).status_code == 404
    mine = client_for("officer_a").get(url_a)
    assert mine.status_code == 200 and mine.json()["taxpayer"]["name"] == "城东申请人"
    assert mine.json()["computed_incremental"] == "1200000.00"
    assert client_for("credit_officer").get(url_a).status_code == 403
    assert client_for(None).get(url_a).status_code in (401, 403)
    assert client_for("refund_officer").get(reverse("api:refund-application-detail", args=[999999])).status_code == 404
