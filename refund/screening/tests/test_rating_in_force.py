"""The refund rules read the rating in force on the day that matters: a C taxpayer repaired to B on
2026-03-15 fails on its rating for an application dated before, and passes after, on every path — the
single-taxpayer case, the batch builder and the set-based statement. With no rating in force the taxpayer is
unrated: the rules get ``M``, which is not A or B."""

from __future__ import annotations

import datetime as dt

import pytest

from core.periods import Period
from credit.models import RatingBasis
from refund.models import ScreeningRun
from refund.rules import CaseError
from refund.screening.case_builder import BatchCaseBuilder, level_in_force, taxpayer_case
from refund.screening.decisions import decide, decision_of
from refund.screening.return_states import rebuild_return_states
from refund.screening.tests.test_screening_batch import outcome, stored_outcome
from refund.screening.tests.test_screening_sql import screen_with_sql
from refund.tests.ratings import rate
from refund.tests.screening_data import eligible_taxpayer

pytestmark = pytest.mark.django_db

PERIOD = Period(2026, 3)
REPAIRED_ON = dt.date(2026, 3, 15)
BEFORE, ON, AFTER = dt.date(2026, 3, 10), REPAIRED_ON, dt.date(2026, 3, 20)


@pytest.fixture
def repaired(org):
    """Rated C for 2024 (in force from 2025-04-01), repaired to B on 2026-03-15; no other rating."""
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="")
    rate(taxpayer, "C", on=dt.date(2025, 4, 1), year=2024)
    rate(taxpayer, "B", on=REPAIRED_ON, year=2024, basis=RatingBasis.REPAIRED)
    return taxpayer


def failed(decision) -> set[str]:
    assert not isinstance(decision, CaseError), decision
    return {c.code for c in decision.conditions if not c.passed}


@pytest.mark.parametrize(("day", "level", "eligible"), [(BEFORE, "C", False), (ON, "B", True), (AFTER, "B", True)])
def test_the_case_holds_the_rating_in_force_on_the_application_date(repaired, day, level, eligible):
    case = taxpayer_case(taxpayer_id=repaired.pk, application_period=PERIOD, application_date=day)
    assert case.taxpayer.credit_level == level == level_in_force(repaired.pk, day)
    decision = decision_of(case)
    assert decision.eligible is eligible
    assert ("credit_a_or_b" in failed(decision)) is not eligible


def test_the_batch_builder_reads_the_same_rating_as_the_single_path(repaired):
    for day in (BEFORE, AFTER):
        [(pk, case)] = BatchCaseBuilder(application_period=PERIOD, application_date=day).cases([repaired.pk])
        single = taxpayer_case(taxpayer_id=pk, application_period=PERIOD, application_date=day)
        assert case.taxpayer.credit_level == single.taxpayer.credit_level
        assert decide(case) == decide(single)


def test_the_set_based_screening_fails_on_credit_before_the_repair_and_passes_after(repaired):
    rebuild_return_states()
    for day, eligible in ((BEFORE, False), (AFTER, True)):
        results, handed_back = screen_with_sql(period=PERIOD, day=day, options={})
        assert handed_back == set()
        result = results[repaired.pk]
        assert result.eligible is eligible
        assert ("credit_a_or_b" in result.failed_conditions) is not eligible
        expected = decide(taxpayer_case(taxpayer_id=repaired.pk, application_period=PERIOD, application_date=day))
        assert stored_outcome(result) == outcome(expected)
        ScreeningRun.objects.filter(pk=result.run_id).update(status="succeeded")  # the next run may start


def test_no_rating_in_force_is_unrated_on_both_paths(org):
    """Rated B only from 2026-03-15: on 2026-03-10 nothing is in force, the rules get M."""
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="")
    rate(taxpayer, "B", on=REPAIRED_ON)
    assert level_in_force(taxpayer.pk, BEFORE) == ""
    case = taxpayer_case(taxpayer_id=taxpayer.pk, application_period=PERIOD, application_date=BEFORE)
    assert case.taxpayer.credit_level == "M" and "credit_a_or_b" in failed(decision_of(case))
    rebuild_return_states()
    results, _ = screen_with_sql(period=PERIOD, day=BEFORE, options={})
    assert "credit_a_or_b" in results[taxpayer.pk].failed_conditions


def test_a_newer_year_takes_over_from_its_evaluation_day(org):
    """The 2023 rating stays in force until the 2024 one takes effect."""
    taxpayer = eligible_taxpayer(org["branch_a"], credit_level="")
    rate(taxpayer, "A", on=dt.date(2024, 4, 1), year=2023)
    rate(taxpayer, "C", on=dt.date(2025, 4, 1), year=2024)
    assert level_in_force(taxpayer.pk, BEFORE) == "C"
    assert level_in_force(taxpayer.pk, dt.date(2025, 3, 31)) == "A"
