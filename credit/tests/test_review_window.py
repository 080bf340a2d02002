"""复核: filed in March of the year after the evaluation year, under both rule sets; the case service refuses it
outside that window with a Chinese reason (and an English log line), and the pages show the window."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import ApplicationError
from credit.models import CreditRating, DishonestyEvent
from credit.repairs import services
from credit.repairs.selectors import case_years, review_window_of
from credit.repairs.services import CaseRefused
from credit.rules.parameters import REVIEW_WINDOW, STA_2014_40, STA_2025_12, evaluation_date
from credit.rules.repair import review_window
from credit.tests.helpers import receive_case


@pytest.mark.parametrize(
    ("year", "first", "last", "document"),
    [
        (2019, dt.date(2020, 3, 1), dt.date(2020, 3, 31), STA_2014_40),
        (2024, dt.date(2025, 3, 1), dt.date(2025, 3, 31), STA_2014_40),
        (2025, dt.date(2026, 3, 1), dt.date(2026, 3, 31), STA_2025_12),
        (2027, dt.date(2028, 3, 1), dt.date(2028, 3, 31), STA_2025_12),
    ],
)
def test_the_window_is_march_of_the_next_year_under_both_rule_sets(year, first, last, document):
    assert review_window(year) == (first, last)
    assert document in REVIEW_WINDOW.citation_at(evaluation_date(year))


def test_the_page_note_points_at_the_open_or_the_next_window():
    assert review_window_of(dt.date(2026, 3, 15)) == review_window_of(dt.date(2026, 3, 15), 2025)
    assert review_window_of(dt.date(2026, 3, 15)).open
    assert review_window_of(dt.date(2026, 2, 28)).year == 2025 and not review_window_of(dt.date(2026, 2, 28)).open
    assert review_window_of(dt.date(2026, 4, 1)).year == 2026  # next March, for the 2026 year


def _event(taxpayer, year):
    return DishonestyEvent.objects.create(
        taxpayer=taxpayer, indicator="010103", recorded_on=dt.date(year, 8, 1), tax="", amount=None
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "received_on"),
    [
        (2024, dt.date(2025, 3, 1)),
        (2024, dt.date(2025, 3, 31)),
        (2025, dt.date(2026, 3, 1)),
        (2025, dt.date(2026, 3, 31)),
    ],
)
def test_a_review_inside_the_window_is_received_before_the_result(personas, taxpayer_a, year, received_on):
    event = _event(taxpayer_a, year)
    case = receive_case(
        personas["credit_officer"], taxpayer_a, {event.pk: None}, kind="review", year=year, received_on=received_on
    )
    assert case.state == "received" and case.rating_before is None
    assert case.points_restored == Decimal("3")  # the disputed 3 points, from the rules' own assessment
    assert case.score_after - case.score_before == Decimal("3")
    assert year in case_years(taxpayer_a, received_on)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "received_on"),
    [
        (2024, dt.date(2025, 2, 28)),
        (2024, dt.date(2025, 4, 1)),
        (2025, dt.date(2026, 2, 28)),
        (2025, dt.date(2026, 4, 1)),
        (2025, dt.date(2025, 3, 15)),
    ],
)
def test_a_review_outside_the_window_is_refused_in_chinese(personas, taxpayer_a, caplog, year, received_on):
    event = _event(taxpayer_a, year)
    with caplog.at_level(logging.WARNING, logger="credit.repairs.services"), pytest.raises(CaseRefused) as refused:
        receive_case(
            personas["credit_officer"], taxpayer_a, {event.pk: None}, kind="review", year=year, received_on=received_on
        )
    assert "复核须在评价年度次年3月提出" in refused.value.message
    assert f"{year + 1}-03-01至{year + 1}-03-31" in refused.value.message
    assert "outside its window" in caplog.text
    assert year not in case_years(taxpayer_a, received_on)


@pytest.mark.django_db
def test_the_review_is_decided_once_the_result_is_set(personas, taxpayer_a):
    officer = personas["credit_officer"]
    event = _event(taxpayer_a, 2025)
    case = receive_case(officer, taxpayer_a, {event.pk: None}, kind="review", received_on=dt.date(2026, 3, 10))
    services.credit_case_review(actor=officer, case_id=case.pk)
    with pytest.raises(ApplicationError, match="评价结果尚未导入"):
        services.credit_case_decide(
            actor=officer, case_id=case.pk, granted_event_ids=[event.pk], on=dt.date(2026, 3, 20)
        )
    CreditRating.objects.create(
        taxpayer=taxpayer_a,
        year=2025,
        level="B",
        score=Decimal("87"),
        evaluated_on=dt.date(2026, 4, 18),
        rule_set="2025",
    )
    case = services.credit_case_decide(
        actor=officer, case_id=case.pk, granted_event_ids=[event.pk], on=dt.date(2026, 4, 20)
    )
    assert (case.state, case.new_rating.basis, case.new_rating.score, case.new_rating.level) == (
        "approved",
        "reviewed",
        Decimal("90"),
        "A",
    )


@pytest.mark.django_db
def test_the_pages_show_the_window(client_for, taxpayer_a, monkeypatch):
    client = client_for("credit_officer")
    CreditRating.objects.create(
        taxpayer=taxpayer_a,
        year=2025,
        level="B",
        score=Decimal("85"),
        evaluated_on=dt.date(2026, 4, 18),
        rule_set="2025",
    )
    page = client.get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    assert 'id="review-window"' in page and "提出复核" in page
    form = client.get(reverse("credit:case_new", args=[taxpayer_a.pk]) + "?year=2025").content.decode()
    assert "2025年度的复核期限：2026-03-01至2026-03-31" in form
