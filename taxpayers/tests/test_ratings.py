"""The registry's level is a read through the reader the credit app registers; without one, everyone is unrated."""

import pytest

from taxpayers import ratings
from taxpayers.models import Taxpayer
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db


def test_without_a_reader_every_taxpayer_is_unrated(monkeypatch, org):
    monkeypatch.setattr(ratings, "_latest", [])
    TaxpayerFactory(branch=org["branch_a"])
    row = ratings.with_latest_rating(Taxpayer.objects.all()).values("credit_level", "credit_year").get()
    assert row == {"credit_level": "", "credit_year": None}


def test_the_registered_reader_annotates_and_a_new_one_replaces_it(monkeypatch, org):
    from django.db.models import IntegerField, Value

    monkeypatch.setattr(ratings, "_latest", list(ratings._latest))
    assert ratings._latest, "the credit app registers its reader when it is ready"
    ratings.register_latest_rating(
        lambda qs: qs.annotate(credit_level=Value("B"), credit_year=Value(2024, output_field=IntegerField()))
    )
    TaxpayerFactory(branch=org["branch_a"])
    row = ratings.with_latest_rating(Taxpayer.objects.all()).values("credit_level", "credit_year").get()
    assert row == {"credit_level": "B", "credit_year": 2024}
