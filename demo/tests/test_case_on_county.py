"""``taxpayer_case X P | refund_assess -`` reproduces the explanation and what-if pages, on demo-county taxpayers
(the commands themselves: ``refund/tests/test_taxpayer_case.py``)."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.money import format_yuan
from core.periods import Period
from demo import county as demo_county
from demo.seeding import seed_demo_county
from refund.screening import case_builder
from refund.screening.decisions import decide
from refund.screening.tests.test_taxpayer_case import DATE, FIGURES, PERIOD, refund_assess, taxpayer_case
from taxpayers.models import Taxpayer, VatReturn

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(db):
    """A small demo county whose last filed period is 2026-02, and a taxpayer missing that return."""
    seed_demo_county(demo_county.DemoParams(taxpayers=60, seed=5, today=DATE))
    decisions = {}
    for taxpayer in Taxpayer.objects.filter(general_taxpayer_since__isnull=False).order_by("identifier"):
        decisions[taxpayer.pk] = decide(
            case_builder.taxpayer_case(
                taxpayer_id=taxpayer.pk, application_period=Period(2026, 3), application_date=DATE
            )
        )
    eligible = next(pk for pk, d in decisions.items() if d.get("eligible"))
    ineligible = next(pk for pk, d in decisions.items() if "error" not in d and not d["eligible"] and d["regime"])
    errors = [pk for pk, d in decisions.items() if "error" in d]
    if not errors:
        broken = next(pk for pk in decisions if pk not in (eligible, ineligible))
        VatReturn.objects.filter(taxpayer_id=broken, period__gte="2025-12").delete()
        errors = [broken]
    picked = {"eligible": eligible, "ineligible": ineligible, "error": errors[0]}
    return {key: Taxpayer.objects.get(pk=pk) for key, pk in picked.items()}


def page_figures(page: str) -> dict[str, str]:
    return {name: html_lib.unescape(value) for name, value in re.findall(r'data-figure="(\w+)">([^<]*)<', page)}


@pytest.mark.parametrize("kind", ["eligible", "ineligible", "error"])
def test_page_figures_equal_refund_assess_on_the_printed_case(county, kind, tmp_path):
    taxpayer = county[kind]
    client = Client()
    client.force_login(User.objects.get(username="refund"))
    url = reverse("refund:taxpayer_explain", args=[taxpayer.pk])
    response = client.get(url, {"period": PERIOD, "date": DATE.isoformat()})
    page = response.content.decode()

    assessed = refund_assess(taxpayer_case(taxpayer.identifier, PERIOD, "--date", DATE.isoformat()), tmp_path)
    assert response.context["explanation"].decision == assessed
    assert "manage.py" not in page and "taxpayer_case" not in page  # the command is for the information centre

    if kind == "error":
        assert "error" in assessed
        assert html_lib.escape(assessed["message"]) in page
        return
    assert assessed["eligible"] is (kind == "eligible")
    shown = page_figures(page)
    for name in FIGURES:
        expected = format_yuan(assessed[name]) if assessed[name] is not None else "—"
        assert shown[name] == expected, name
    assert f'id="refundable-total">{format_yuan(assessed["refundable_total"])}<' in page
    for condition in assessed["conditions"]:
        assert html_lib.escape(condition["detail"]) in page
        assert f'data-code="{condition["code"]}" data-passed="{str(condition["passed"]).lower()}"' in page
    for line in assessed["trace"]:
        assert html_lib.escape(line) in page


def test_what_if_equals_refund_assess_with_the_changed_case(county, tmp_path):
    taxpayer = county["eligible"]
    client = Client()
    client.force_login(User.objects.get(username="refund"))
    url = reverse("refund:what_if", args=[taxpayer.pk])
    response = client.get(
        url, {"period": PERIOD, "date": DATE.isoformat(), "credit_level": "C"}, HTTP_HX_REQUEST="true"
    )
    assessed = refund_assess(
        taxpayer_case(taxpayer.identifier, PERIOD, "--date", DATE.isoformat(), "--credit-level", "C"), tmp_path
    )
    assert response.context["what_if"].decision == assessed
    assert assessed["eligible"] is False
    rows = {row["key"]: row for row in response.context["comparison"]}
    assert rows["refundable_total"]["hypothetical"] == format_yuan(assessed["refundable_total"])
