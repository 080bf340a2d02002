from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from taxpayers.tests.factories import TaxpayerFactory, VatReturnFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:taxpayer-list")


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_masked_scoped_and_paginated(personas, taxpayer_a, taxpayer_b):
    response = api_for(personas["officer_a"]).get(LIST_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["name"] == taxpayer_a.name
    assert row["identifier"] == f"{taxpayer_a.identifier[:4]}********{taxpayer_a.identifier[-5:]}"
    assert row["legal_rep_mobile"] == "138****8000"
    assert row["branch"] == {"code": "BRA", "name": "城东税务分局"}
    assert row["industry"] == {
        "code": "C3411",
        "section": "C",
        "section_name": "制造业",
        "division": "34",
        "division_name": "通用设备制造业",
    }
    assert row["url"].endswith(reverse("api:taxpayer-detail", args=[taxpayer_a.pk]))


def test_list_uses_the_same_filters_as_the_page(personas, org):
    a = TaxpayerFactory(branch=org["branch_a"], size="small", industry_code="F5211")
    TaxpayerFactory(branch=org["branch_b"], size="medium")
    small = TaxpayerFactory(branch=org["branch_a"], size="small", general_taxpayer_since=None)
    client = api_for(personas["refund_officer"])

    def names(**params):
        return sorted(r["name"] for r in client.get(LIST_URL, params).json()["results"])

    assert names(size="small") == [a.name]
    assert names(size="small", general="all") == sorted([a.name, small.name])
    assert names(industry="F52") == [a.name]
    assert names(q=a.name[-3:]) == [a.name]


def test_invalid_filter_is_a_400_with_field_errors(personas, taxpayer_a):
    response = api_for(personas["refund_officer"]).get(LIST_URL, {"industry": "Z99", "sort": "salary"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_filters"
    assert set(body["errors"]) == {"industry", "sort"}


def test_branch_filter_outside_scope_is_refused(personas, taxpayer_a, taxpayer_b):
    response = api_for(personas["officer_a"]).get(LIST_URL, {"branch": "BRB"})
    assert response.status_code == 400


def test_detail_masked_and_404_outside_scope(personas, taxpayer_a, taxpayer_b):
    client = api_for(personas["officer_a"])
    response = client.get(reverse("api:taxpayer-detail", args=[taxpayer_a.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == taxpayer_a.name
    assert body["finance_contact_mobile"] == "139****5678"
    assert body["identifier"] != taxpayer_a.identifier
    assert body["registered_on"] == "2015-03-01"
    assert client.get(reverse("api:taxpayer-detail", args=[taxpayer_b.pk])).status_code == 404
    assert client.get(reverse("api:taxpayer-detail", args=[taxpayer_b.pk + 1000])).status_code == 404
    # The full identifier never travels in a URL: not as a path, and not in a row's url.
    assert client.get(f"/api/taxpayers/{taxpayer_a.identifier}/").status_code == 404
    listing = client.get(reverse("api:taxpayer-list")).content.decode()
    assert taxpayer_a.identifier not in listing


def test_a_404_is_chinese_json_also_for_an_address_the_api_does_not_have(personas, taxpayer_b):
    client = api_for(personas["officer_a"])
    outside = client.get(reverse("api:taxpayer-detail", args=[taxpayer_b.pk]))
    assert (outside.status_code, outside.json()) == (404, {"detail": "未找到。"})  # not the selector's English
    for path in ("/api/taxpayers/not-an-id/", "/api/nothing-here/"):
        response = client.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "未找到。"}
    pages = Client()
    pages.force_login(personas["officer_a"])
    page = pages.get("/taxpayers/nothing-here/")
    assert page.status_code == 404 and "text/html" in page["Content-Type"]  # pages keep the HTML page


def test_returns_newest_first_with_decimal_strings(personas, taxpayer_a, taxpayer_b):
    VatReturnFactory(taxpayer=taxpayer_a, period="2025-08")
    VatReturnFactory(taxpayer=taxpayer_a, period="2025-10", end_credit=Decimal("1234567.89"))
    VatReturnFactory(taxpayer=taxpayer_a, period="2025-09")
    client = api_for(personas["officer_a"])
    response = client.get(reverse("api:taxpayer-returns", args=[taxpayer_a.pk]))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["period"] for r in results] == ["2025-10", "2025-09", "2025-08"]
    assert results[0]["end_credit"] == "1234567.89"
    assert results[0]["input_tax_total"] == "150000.00"
    assert client.get(reverse("api:taxpayer-returns", args=[taxpayer_b.pk])).status_code == 404


def test_token_authentication(personas, taxpayer_a):
    token = Token.objects.create(user=personas["supervisor"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(LIST_URL).json()["count"] == 1
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(LIST_URL).status_code in (401, 403)


def test_anonymous_and_roleless_users_are_refused(org, taxpayer_a):
    from accounts.models import User

    assert APIClient().get(LIST_URL).status_code in (401, 403)
    nobody = User.objects.create_user(username="nobody", password="x-long-password", branch=org["branch_a"])
    assert api_for(nobody).get(LIST_URL).status_code == 403


def test_api_list_query_count_does_not_grow_with_rows(personas, org, django_assert_max_num_queries):
    TaxpayerFactory.create_batch(45, branch=org["branch_a"])
    client = api_for(personas["refund_officer"])
    with django_assert_max_num_queries(6):
        response = client.get(LIST_URL)
    assert len(response.json()["results"]) == 45


def test_schema_and_docs_for_a_signed_in_user(client_for):
    client = client_for("officer_a")
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/taxpayers/{id}/returns/" in text
    assert "credit_level" in text
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "drf_spectacular_sidecar" in html  # served from our own static files, no CDN


def test_schema_generates_without_warnings():
    """The same check as ``manage.py spectacular --fail-on-warn --validate``, over the whole API: no warning, no
    error, a valid OpenAPI document with every operation, and every operation documents its refusals (JSON)."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    validate_schema(schema)

    operations = {(method.upper(), path): op for path, item in schema["paths"].items() for method, op in item.items()}
    assert set(operations) == {
        ("POST", "/api/token/"),
        ("GET", "/api/taxpayers/"),
        ("GET", "/api/taxpayers/{id}/"),
        ("GET", "/api/taxpayers/{id}/returns/"),
        ("GET", "/api/refund/applications/"),
        ("POST", "/api/refund/applications/"),
        ("GET", "/api/refund/applications/{id}/"),
    }
    for (method, path), operation in operations.items():
        documented = set(operation["responses"])
        assert "429" in documented, (method, path)  # every view is throttled
        if operation.get("security"):
            assert {"401", "403"} <= documented, (method, path)
        if "{" in path or any(p["name"] == "page" for p in operation.get("parameters", [])):
            assert "404" in documented, (method, path)
        if "requestBody" in operation:
            assert {"400", "415"} <= documented, (method, path)
        for code, response in operation["responses"].items():
            assert list(response["content"]) == ["application/json"], (method, path, code)
    assert "400" in operations["GET", "/api/taxpayers/"]["responses"]  # an invalid filter
    assert "400" in operations["GET", "/api/refund/applications/"]["responses"]  # an unknown state
    assert "409" in operations["POST", "/api/refund/applications/"]["responses"]  # a duplicate application


@pytest.mark.django_db
def test_token_authentication_end_to_end(personas, taxpayer_a, taxpayer_b):
    client = APIClient()
    response = client.post(reverse("api:token"), {"username": "officer_a", "password": "test-pass-123"})
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(reverse("api:taxpayer-list"))
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == [taxpayer_a.name]
    assert client.post(reverse("api:token"), {"username": "officer_a", "password": "wrong"}).status_code == 400
