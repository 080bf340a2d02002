"""Screening runs: start returns the unfinished run, execution is claimed once, one taxpayer is re-screened."""

import datetime as dt
from decimal import Decimal

import pytest

from credit.tests.factories import TaxpayerFactory, rate
from refund.models import ReturnState, ScreeningResult, ScreeningRun
from refund.screening.services import (
    screen_taxpayer,
    screening_rescreen_changed,
    screening_run_execute,
    screening_run_start,
)
from taxpayers.models import ImportJob, VatReturn
from taxpayers.signals import import_applied

pytestmark = pytest.mark.django_db


def _eligible_taxpayer(branch):
    """Rated A, credits rising for six months to 2026-02 above 2019-03: eligible under 7号 class 2 or 3."""
    taxpayer = TaxpayerFactory(branch=branch, credit_level="A", industry_code="E4710", size="small")
    VatReturn.objects.create(taxpayer=taxpayer, period="2019-03", end_credit=Decimal("100000"))
    VatReturn.objects.create(taxpayer=taxpayer, period="2025-01", input_special_invoice=Decimal("500000"))
    for i, month in enumerate(["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]):
        VatReturn.objects.create(
            taxpayer=taxpayer,
            period=month,
            end_credit=Decimal("1000000") * (i + 1),
            input_special_invoice=Decimal("300000"),
        )
    return taxpayer


def test_start_returns_the_unfinished_run_and_enqueues_once(org, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = screening_run_start(actor=personas["refund_officer"], application_period="2026-03")
        second = screening_run_start(actor=personas["refund_officer"], application_period="2026-03")
    assert first.pk == second.pk
    assert first.status == ScreeningRun.Status.PENDING
    assert first.application_date == dt.date(2026, 3, 1)
    assert len(callbacks) == 1


def test_execute_claims_once_and_totals_the_results(org):
    taxpayer = _eligible_taxpayer(org["branch_a"])
    TaxpayerFactory(branch=org["branch_b"], general_taxpayer_since=None)  # small-scale: not screened
    run = ScreeningRun.objects.create(application_period="2026-03", application_date=dt.date(2026, 3, 10))
    done = screening_run_execute(run_id=run.pk)
    assert done.status == ScreeningRun.Status.SUCCEEDED
    assert screening_run_execute(run_id=run.pk) is None  # second delivery: nothing to claim
    result = run.results.get()
    assert result.taxpayer_id == taxpayer.pk
    assert result.eligible is True
    assert result.refundable_total > 0
    assert done.total_count == 1
    assert done.eligible_count == 1
    assert done.refundable_total == result.refundable_total
    assert result.failed_conditions == []
    assert result.refund_rate in ("0.60", "1.00")


def test_results_go_with_their_run_and_their_taxpayer(org):
    """The result keys are not database constraints (refund.models.ScreeningResult): the ORM removes them."""
    kept, removed = _eligible_taxpayer(org["branch_a"]), _eligible_taxpayer(org["branch_b"])
    first = ScreeningRun.objects.create(application_period="2026-03", application_date=dt.date(2026, 3, 10))
    screening_run_execute(run_id=first.pk)
    second = ScreeningRun.objects.create(application_period="2026-04", application_date=dt.date(2026, 4, 10))
    screening_run_execute(run_id=second.pk)
    assert ScreeningResult.objects.count() == 4
    removed.delete()
    assert set(ScreeningResult.objects.values_list("taxpayer_id", flat=True)) == {kept.pk}
    first.delete()
    assert list(ScreeningResult.objects.values_list("run_id", "taxpayer_id")) == [(second.pk, kept.pk)]


def test_screen_taxpayer_updates_the_latest_run(org):
    taxpayer = _eligible_taxpayer(org["branch_a"])
    run = ScreeningRun.objects.create(application_period="2026-03", application_date=dt.date(2026, 3, 10))
    screening_run_execute(run_id=run.pk)
    rate(taxpayer, "C", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    decision = screen_taxpayer(taxpayer_id=taxpayer.pk, application_period="2026-03")
    assert decision.eligible is False
    run.refresh_from_db()
    assert run.results.get().eligible is False
    assert run.eligible_count == 0
    assert run.refundable_total == Decimal("0")


def test_import_signal_refreshes_aggregates(org):
    taxpayer = _eligible_taxpayer(org["branch_a"])
    import_applied.send(sender=ImportJob, kind=ImportJob.Kind.RETURNS, job_id=0)
    state = ReturnState.objects.get(taxpayer=taxpayer, period="2026-02")
    assert state.from_2019_core == 230000000  # fen: 500,000 in 2025-01 and 6 × 300,000
    assert state.from_prior_january_core == 230000000
    assert state.months_positive == 5
    assert state.base_2019_credit == 10000000


def test_rescreen_changed_updates_only_the_changed_taxpayers(org):
    changed = _eligible_taxpayer(org["branch_a"])
    unchanged = _eligible_taxpayer(org["branch_b"])
    run = ScreeningRun.objects.create(application_period="2026-03", application_date=dt.date(2026, 3, 10))
    screening_run_execute(run_id=run.pk)
    assert screening_rescreen_changed(application_period="2026-03") == 0  # nothing changed since
    rate(changed, "D", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    assert screening_rescreen_changed(application_period="2026-03") == 1
    run.refresh_from_db()
    assert run.results.get(taxpayer=changed).eligible is False
    assert run.results.get(taxpayer=unchanged).eligible is True
    assert run.eligible_count == 1
    assert run.refundable_total == run.results.get(taxpayer=unchanged).refundable_total
