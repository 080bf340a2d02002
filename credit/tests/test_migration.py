"""The registry's single 纳税信用级别 became a rating of the history before the column was dropped, so nothing was
lost: the test goes back to the schema that still had the column (taxpayers before its drop migration), runs the
move on the models of that state, and comes forward again."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Branch

moved = importlib.import_module("credit.migrations.0002_ratings_from_credit_level")
WITH_COLUMN = ("taxpayers", "0006_taxpayer_sme_flags")
MOVE = ("credit", "0002_ratings_from_credit_level")


@pytest.fixture
def old_apps():
    """The models as they stood when the move ran, on a database migrated back to that schema."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([WITH_COLUMN])
    try:
        yield MigrationExecutor(connection).loader.project_state([WITH_COLUMN, MOVE]).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)


@pytest.mark.django_db(transaction=True)
def test_each_rated_taxpayer_gets_its_rating_once(old_apps):
    taxpayer_model = old_apps.get_model("taxpayers", "Taxpayer")
    rating_model = old_apps.get_model("credit", "CreditRating")
    branch = Branch.objects.create(code="M001", name="迁移分局", kind=Branch.Kind.BRANCH)

    def taxpayer(n: int, level: str, year: int | None):
        return taxpayer_model.objects.create(
            identifier=f"91330106MA0000{n:03d}X",
            name=f"迁移测试{n}",
            branch_id=branch.pk,
            industry_code="C3411",
            registered_on=dt.date(2015, 3, 1),
            credit_level=level,
            credit_year=year,
        )

    rated = taxpayer(1, "B", 2025)
    no_year = taxpayer(2, "A", None)
    taxpayer(3, "", None)
    moved.ratings_from_credit_level(old_apps, None)
    moved.ratings_from_credit_level(old_apps, None)  # again: nothing more
    rating = rating_model.objects.get(taxpayer_id=rated.pk)
    assert (rating.year, rating.level, rating.score, rating.basis, rating.rule_set) == (
        2025,
        "B",
        None,
        "evaluated",
        "2025",
    )
    assert rating.evaluated_on == dt.date(2014, 10, 1)  # in force whatever the date, as the field was
    fallback = rating_model.objects.get(taxpayer_id=no_year.pk)
    assert fallback.year == no_year.updated_at.year - 1 and fallback.rule_set == (
        "2025" if fallback.year >= 2025 else "2014"
    )
    assert rating_model.objects.count() == 2
