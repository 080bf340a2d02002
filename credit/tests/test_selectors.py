"""The rating in force on a day: one taxpayer, a queryset annotation and the set-based SQL agree."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from credit.models import CreditRating
from credit.selectors import (
    latest_rating,
    rating_in_force,
    rating_in_force_sql,
    with_rating_in_force,
)
from taxpayers.models import Taxpayer
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db


def _rating(taxpayer, year, level, on, basis="evaluated", score=None):
    return CreditRating.objects.create(
        taxpayer=taxpayer, year=year, level=level, evaluated_on=on, basis=basis, rule_set="2025", score=score
    )


@pytest.fixture
def history():
    """2024: B from 2025-04-20; 2025: C from 2026-04-18, repaired to B on 2026-05-30."""
    taxpayer = TaxpayerFactory()
    _rating(taxpayer, 2024, "B", dt.date(2025, 4, 20), score=Decimal("88"))
    _rating(taxpayer, 2025, "C", dt.date(2026, 4, 18), score=Decimal("65"))
    _rating(taxpayer, 2025, "B", dt.date(2026, 5, 30), basis="repaired", score=Decimal("80.5"))
    return taxpayer


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 4, 19), None),  # the day before the first rating took effect
        (dt.date(2025, 4, 20), (2024, "B")),  # its first day
        (dt.date(2026, 4, 17), (2024, "B")),
        (dt.date(2026, 4, 18), (2025, "C")),  # the next year's result replaces it on its day
        (dt.date(2026, 5, 29), (2025, "C")),
        (dt.date(2026, 5, 30), (2025, "B")),  # the repair counts from its own date
        (dt.date(2030, 1, 1), (2025, "B")),
    ],
)
def test_rating_in_force_on_the_boundary_days(history, day, expected):
    rating = rating_in_force(history, day)
    assert (None if rating is None else (rating.year, rating.level)) == expected
    annotated = with_rating_in_force(Taxpayer.objects.filter(pk=history.pk), day).get()
    assert (annotated.rating_year, annotated.rating_level) == (expected or (None, None))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT year, level FROM ({rating_in_force_sql(day, where='taxpayer_id = %s')}) AS cr",  # noqa: S608
            [history.pk],
        )
        assert cursor.fetchone() == expected


def test_a_later_decision_on_an_older_year_does_not_displace_the_newer_year(history):
    """A 2024 re-evaluation decided after the 2025 result was set leaves 2025's rating in force."""
    _rating(history, 2024, "A", dt.date(2026, 6, 10), basis="re_evaluated", score=Decimal("91"))
    assert rating_in_force(history, dt.date(2026, 6, 30)).level == "B"
    assert rating_in_force(history, dt.date(2026, 6, 30)).year == 2025
    assert latest_rating(history).year == 2025


def test_latest_rating_and_the_score_annotation(history):
    assert latest_rating(history).basis == "repaired"
    assert latest_rating(TaxpayerFactory()) is None
    annotated = with_rating_in_force(Taxpayer.objects.filter(pk=history.pk), None).get()
    assert (annotated.rating_level, annotated.rating_score) == ("B", Decimal("80.50"))


def test_the_sql_fragment_reads_many_taxpayers_in_one_statement(history):
    other = TaxpayerFactory()
    _rating(other, 2025, "A", dt.date(2026, 4, 18), score=Decimal("95"))
    unrated = TaxpayerFactory()
    sql = rating_in_force_sql(dt.date(2026, 5, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, cr.level FROM taxpayers_taxpayer t LEFT JOIN ({sql}) AS cr ON cr.taxpayer_id = t.id "  # noqa: S608
            "ORDER BY t.id"
        )
        levels = dict(cursor.fetchall())
    assert levels == {history.pk: "C", other.pk: "A", unrated.pk: None}


def test_the_sql_fragment_takes_only_a_date():
    with pytest.raises(TypeError):
        rating_in_force_sql("2026-05-01'; DROP TABLE x; --")
