"""The applications' risk gate reads the rating in force on the application date (the receipt, kept inside
the application period): as recorded at submission, and as the ratings stand at approval — a 复评 dated on or
before that day counts, one that takes effect after it does not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credit.models import RatingBasis
from refund.applications.services import RiskHitReturned, application_approve
from refund.models import RefundApplication
from refund.tests.applications import RECEIVED_ON, eligible_taxpayer, receive, reviewing
from refund.tests.ratings import rate

pytestmark = pytest.mark.django_db
REPAIRED_ON = dt.date(2026, 3, 15)


@pytest.fixture
def officer(personas):
    return personas["refund_officer"]


@pytest.fixture
def repaired(org):
    """Rated C for 2024 (in force from 2025-04-01), repaired to B on 2026-03-15; no registry level."""
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="")
    rate(taxpayer, "C", on=dt.date(2025, 4, 1), year=2024)
    rate(taxpayer, "B", on=REPAIRED_ON, year=2024, basis=RatingBasis.REPAIRED)
    return taxpayer


@pytest.fixture
def rated_b(org):
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="")
    rate(taxpayer, "B", on=dt.date(2025, 4, 1), year=2024)
    return taxpayer


def hits(application, stage="arrival") -> dict:
    return {hit.code: hit for hit in application.risk_hits.filter(stage=stage)}


def test_an_application_dated_before_the_repair_is_returned_on_its_rating(officer, repaired):
    application = receive(officer, repaired, claimed=Decimal("1000.00"), received_on=RECEIVED_ON)
    assert application.credit_level_at_submission == "C"
    assert application.state == RefundApplication.State.RETURNED
    evidence = hits(application)["credit_level"].evidence
    assert (evidence["level_at_submission"], evidence["level_now"]) == ("C", "C")


def test_an_application_dated_after_the_repair_passes_the_gate(officer, repaired):
    application = receive(officer, repaired, received_on=dt.date(2026, 3, 20))
    assert application.credit_level_at_submission == "B"
    assert application.state == RefundApplication.State.RECEIVED and not hits(application)


def test_an_unrated_taxpayer_is_recorded_without_a_level_and_returned(officer, org):
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="")
    application = receive(officer, taxpayer, claimed=Decimal("1000.00"))
    assert application.credit_level_at_submission == ""
    assert hits(application)["credit_level"].evidence["level_now"] == ""


def test_a_re_evaluation_dated_before_the_application_found_at_approval_returns_it(officer, rated_b):
    application = reviewing(officer, rated_b)
    rate(rated_b, "D", on=dt.date(2026, 3, 1), year=2024, basis=RatingBasis.RE_EVALUATED)
    with pytest.raises(RiskHitReturned):
        application_approve(actor=officer, application=application)
    evidence = application.risk_hits.get(stage="approval", code="credit_level").evidence
    assert (evidence["level_at_submission"], evidence["level_now"]) == ("B", "D")


def test_a_rating_that_takes_effect_after_the_application_date_does_not_count(officer, rated_b):
    application = reviewing(officer, rated_b)
    rate(rated_b, "D", on=dt.date(2026, 4, 1), year=2025)
    application = application_approve(actor=officer, application=application)
    assert application.state == RefundApplication.State.APPROVED
    assert not hits(application, "approval")
