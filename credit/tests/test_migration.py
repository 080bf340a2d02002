"""Today's single 纳税信用级别 becomes a rating of the history, so nothing is lost."""

import datetime as dt
import importlib

import pytest
from django.apps import apps

from credit.models import CreditRating
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db
moved = importlib.import_module("credit.migrations.0002_ratings_from_credit_level")


def test_each_rated_taxpayer_gets_its_rating_once():
    rated = TaxpayerFactory(credit_level="B", credit_year=2025)
    no_year = TaxpayerFactory(credit_level="A", credit_year=None)
    TaxpayerFactory(credit_level="", credit_year=None)
    moved.ratings_from_credit_level(apps, None)
    moved.ratings_from_credit_level(apps, None)  # again: nothing more
    rating = CreditRating.objects.get(taxpayer=rated)
    assert (rating.year, rating.level, rating.score, rating.basis, rating.rule_set) == (
        2025,
        "B",
        None,
        "evaluated",
        "2025",
    )
    assert rating.evaluated_on == dt.date(2014, 10, 1)  # in force whatever the date, as the field was
    fallback = CreditRating.objects.get(taxpayer=no_year)
    assert fallback.year == no_year.updated_at.year - 1 and fallback.rule_set == (
        "2025" if fallback.year >= 2025 else "2014"
    )
    assert CreditRating.objects.count() == 2
