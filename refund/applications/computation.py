"""The rules' figures for an application, and the figures an officer confirms (一键确认) — reads and pure
helpers, no writes.

An application is decided by the real rules on the taxpayer's case (with the options of the period's screening),
its own period left out of its previous refunds; the figures are restricted to the kind applied for, and the case
is kept on the application as the contract's JSON (``case_to_json``, what ``manage.py refund_assess`` accepts).
A confirmation takes them as they are or corrects them: the corrected parts must make a refund of the kind
(``refund.rules.split``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils import timezone

from core.errors import ApplicationError
from core.money import format_yuan, parse_yuan
from core.periods import Period
from taxpayers.models import Taxpayer

from ..models import RefundApplication, ScreeningRun
from ..rules import Case, CaseError, case_to_json
from ..rules.split import SplitError, split_refund
from ..screening.case_builder import tax_period_of, taxpayer_case
from ..screening.decisions import Outcome, contract_output, decision_of
from .risk import RuleFigures, application_date_for, figures_of

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Computation:
    """The rules' figures for an application, and the case and decision they came from."""

    case: Case
    decision: Outcome
    figures: RuleFigures


def options_for(application_period: Period) -> dict | None:
    """The options of the period's latest screening, so that an application is decided as it was screened."""
    run = ScreeningRun.latest_succeeded(application_period)
    return dict(run.options) if run is not None and run.options else None


def compute_application(
    *,
    taxpayer_id: int,
    application_period: Period,
    received_on: dt.date,
    kind: str,
    options: Mapping[str, str] | None,
) -> Computation:
    """The real rules (decided as the screening does) for one application. The application's own period is left
    out of its previous refunds: it is the refund decided."""
    case = taxpayer_case(
        taxpayer_id=taxpayer_id,
        application_period=application_period,
        application_date=application_date_for(application_period, received_on),
        options=options,
    )
    earlier = tuple(refund for refund in case.previous_refunds if refund.application_period != application_period)
    case = replace(case, previous_refunds=earlier)
    decision = decision_of(case)
    return Computation(case, decision, figures_of(decision, kind=kind))


def computed_fields(computation: Computation, *, size_fallback: str, industry_fallback: str) -> dict:
    figures, decision = computation.figures, computation.decision
    size = None if isinstance(decision, CaseError) else decision.size
    return {
        "regime": figures.regime,
        "size": (size or size_fallback or "")[:10],
        "industry_code": (computation.case.taxpayer.industry_code or industry_fallback or "")[:5],
        "computed_eligible": figures.eligible,
        "computed_amount": figures.amount,
        "computed_incremental": figures.incremental,
        "computed_stock": figures.stock,
        "computed_at": timezone.now(),
        "inputs_snapshot": case_to_json(computation.case),  # stored as the contract's JSON
        "result_snapshot": contract_output(decision),  # stored as the contract's JSON
    }


def tax_period_credit(
    computation: Computation, *, taxpayer: Taxpayer, application_period: Period
) -> tuple[Period, Decimal | None]:
    """(tax period, its 期末留抵税额) of the return the application rests on, as the rules read it; the credit is
    None when that return is not in the system."""
    tax_period = tax_period_of(application_period, taxpayer.filing_frequency)
    vat_return = computation.case.return_for(tax_period)
    return tax_period, None if vat_return is None else vat_return.end_credit


SPLIT_REFUSALS = {
    "stock_not_applied": "该申请只申请增量留抵退税，确认存量退税额应为 0。",
    "incremental_not_applied": "该申请只申请存量留抵退税，确认增量退税额应为 0。",
    "parts_missing": "该申请同时申请增量和存量留抵退税，请分别填写确认的增量和存量退税额。",
}
"""What the officer is told when the confirmed parts do not fit the kind applied for (``refund.rules.split``)."""


def _computed_figures(application: RefundApplication) -> tuple[Decimal, Decimal, Decimal, bool]:
    """一键确认 of the rules' figures as they are; refused when the rules gave none."""
    if application.computed_amount is None:
        message = (application.result_snapshot or {}).get("message", "")
        raise ApplicationError(
            "规则未能计算该申请的退税额"
            + (f"（{message}）" if message else "")
            + "，不能一键确认；请填写核实后的退税额并说明原因。"
        )
    return (
        application.computed_amount,
        application.computed_incremental or ZERO,
        application.computed_stock or ZERO,
        False,
    )


def _entered(value, label: str) -> Decimal | None:
    return None if value is None else parse_yuan(value, label)


def confirmed_figures(
    application: RefundApplication, amount: Decimal | None, incremental: Decimal | None, stock: Decimal | None
) -> tuple[Decimal, Decimal, Decimal, bool]:
    """(amount, incremental, stock, corrected) from what the officer entered (None: the rules' figure); the parts
    split by the one rule of ``refund.rules.split``, refused in the officer's words."""
    if amount is None and incremental is None and stock is None:
        return _computed_figures(application)
    amount = _entered(amount, "确认退税额")
    incremental = _entered(incremental, "确认增量退税额")
    stock = _entered(stock, "确认存量退税额")
    try:
        split = split_refund(kind=application.kind, amount=amount, incremental=incremental, stock=stock)
    except SplitError as exc:
        if exc.code == "sum_mismatch":
            raise ApplicationError(
                f"增量 {format_yuan(exc.incremental)} 元与存量 {format_yuan(exc.stock)} 元之和 "
                f"{format_yuan(exc.incremental + exc.stock)} 元不等于确认退税额 {format_yuan(exc.amount)} 元。"
            ) from None
        raise ApplicationError(SPLIT_REFUSALS[exc.code]) from None
    amount = split.total if amount is None else amount
    figures = (amount, split.incremental, split.stock)
    computed = (application.computed_amount, application.computed_incremental, application.computed_stock)
    return (*figures, figures != computed)


RECOMPUTED_FIELDS = (
    "regime",
    "size",
    "industry_code",
    "computed_eligible",
    "computed_amount",
    "computed_incremental",
    "computed_stock",
)
