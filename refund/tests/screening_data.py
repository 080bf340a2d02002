"""Taxpayers with known outcomes for application period 2026-03, and runs holding their results.

The application date 2026-03-10 falls under 2025年第7号公告 (from the 2025-09 filing period).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.periods import Period
from credit.tests.factories import TaxpayerFactory
from refund.models import ScreeningResult, ScreeningRun
from refund.screening.case_builder import taxpayer_case
from refund.screening.decisions import Outcome, contract_output, decision_of, result_from_decision
from taxpayers.models import ComplianceRecord, VatReturn

PERIOD = "2026-03"
DATE = dt.date(2026, 3, 10)
WINDOW = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]


def with_rising_credits(taxpayer, *, step=Decimal("1000000")):
    """Credits rising for six months to 2026-02 above the 2019-03 base, with special-invoice input tax."""
    VatReturn.objects.create(taxpayer=taxpayer, period="2019-03", end_credit=Decimal("100000"))
    VatReturn.objects.create(taxpayer=taxpayer, period="2025-01", input_special_invoice=Decimal("500000"))
    for i, month in enumerate(WINDOW):
        VatReturn.objects.create(
            taxpayer=taxpayer, period=month, end_credit=step * (i + 1), input_special_invoice=Decimal("300000")
        )
    return taxpayer


def eligible_taxpayer(branch, **fields):
    """Rated A, small, 房屋建筑业 (E4710): eligible in 2026-03."""
    defaults = {"credit_level": "A", "industry_code": "E4710", "size": "small"}
    return with_rising_credits(TaxpayerFactory(branch=branch, **{**defaults, **fields}))


def ineligible_taxpayer(branch, **fields):
    """The same figures but rated C: fails credit_a_or_b."""
    return eligible_taxpayer(branch, credit_level="C", **fields)


def immediate_refund_taxpayer(branch, **fields):
    """Eligible figures, but enjoyed 即征即退 in 2024 and did not repay it: fails no_immediate_refund."""
    taxpayer = eligible_taxpayer(branch, **fields)
    ComplianceRecord.objects.create(
        taxpayer=taxpayer, kind=ComplianceRecord.Kind.IMMEDIATE_REFUND, occurred_on=dt.date(2024, 5, 1)
    )
    return taxpayer


def error_taxpayer(branch, **fields):
    """No return for 2026-02: missing_return."""
    taxpayer = TaxpayerFactory(branch=branch, **{"credit_level": "A", "size": "small", **fields})
    VatReturn.objects.create(taxpayer=taxpayer, period="2019-03", end_credit=Decimal("100000"))
    return taxpayer


def live_outcome(taxpayer, *, period=PERIOD, date=DATE, options=None) -> Outcome:
    """The rules' decision (or error) on the taxpayer's data now."""
    return decision_of(
        taxpayer_case(
            taxpayer_id=taxpayer.pk, application_period=Period.parse(period), application_date=date, options=options
        )
    )


def live_decision(taxpayer, *, period=PERIOD, date=DATE, options=None) -> dict:
    """The same as the contract's JSON, the form the pages show."""
    return contract_output(live_outcome(taxpayer, period=period, date=date, options=options))


def finished_run(taxpayers, *, period=PERIOD, date=DATE, options=None, **fields) -> ScreeningRun:
    """A succeeded run holding each taxpayer's decision as the rules give it now, totals as the service keeps them."""
    run = ScreeningRun.objects.create(
        application_period=period,
        application_date=date,
        status=ScreeningRun.Status.SUCCEEDED,
        options=options or {},
        **fields,
    )
    results = [
        result_from_decision(run=run, taxpayer_id=t.pk, decision=live_outcome(t, period=period, date=date,
                                                                            options=options or None))
        for t in taxpayers
    ]
    ScreeningResult.objects.bulk_create(results)
    eligible = [r for r in results if r.eligible]
    ScreeningRun.objects.filter(pk=run.pk).update(
        total_count=len(results),
        processed_count=len(results),
        eligible_count=len(eligible),
        error_count=sum(1 for r in results if r.error_code),
        refundable_total=sum((r.refundable_total for r in eligible), Decimal("0")),
    )
    run.refresh_from_db()
    return run
