"""The rules' decision on one case as the screening uses it, and the stored row (``ScreeningResult``) of it.

``decision_of`` is the single-taxpayer path (the set-based statement in ``sql`` must agree with it): the rules'
typed ``Decision`` on a ``Case`` built from the database (``case_builder``), or the ``CaseError`` when the case
cannot be assessed. ``contract_output`` is that outcome as the contract's JSON object (with trace), for the
boundaries: the pages that show it and the snapshot stored on an application. Pure apart from building unsaved
model instances.
"""

from __future__ import annotations

from decimal import Decimal

from core.errors import ApplicationError
from core.periods import Period

from ..models import ScreeningResult, ScreeningRun
from ..rules import Case, CaseError, Decision, assess, validated_case
from ..rules.conditions import CONDITION_BITS
from ..rules.regimes import cents

Outcome = Decision | CaseError
"""What the rules give a case: a decision, or why it cannot be assessed."""


def period_input(value: Period | str) -> Period:
    """An application period a caller gave (a ``Period``, or YYYY-MM text from a task or the API); the Chinese
    error otherwise."""
    try:
        return value if isinstance(value, Period) else Period.parse(value)
    except ValueError:
        raise ApplicationError(f"申请所属期“{value}”无效，应为 YYYY-MM（如 2026-03）。") from None


def decision_of(case: Case) -> Outcome:
    """The rules' decision on a case, or the ``CaseError`` that says why it cannot be assessed (a bad value in it
    as much as a missing return)."""
    try:
        return assess(validated_case(case))
    except CaseError as exc:
        return exc


def contract_output(outcome: Outcome) -> dict:
    """The contract output with trace, or ``{"error", "message"}``."""
    if isinstance(outcome, CaseError):
        return outcome.as_dict()
    return outcome.as_contract_dict(with_trace=True)


def decide(case: Case) -> dict:
    """The contract output with trace for a case, or ``{"error", "message"}`` when it cannot be assessed."""
    return contract_output(decision_of(case))


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else cents(amount)


def result_from_decision(*, run: ScreeningRun, taxpayer_id: int, decision: Outcome) -> ScreeningResult:
    """The stored row of the rules' outcome: amounts in cents and the ratio in six places, as the contract
    reports them."""
    if isinstance(decision, CaseError):
        return ScreeningResult(run=run, taxpayer_id=taxpayer_id, error_code=decision.code)
    return ScreeningResult(
        run=run,
        taxpayer_id=taxpayer_id,
        regime=decision.regime or "",
        eligible=decision.eligible,
        failed_mask=sum(CONDITION_BITS[code] for code in decision.failed_conditions),
        size=decision.size or "",
        current_credit=_cents(decision.current_credit),
        base_credit=_cents(decision.base_credit),
        incremental_credit=_cents(decision.incremental_credit),
        stock_credit=_cents(decision.stock_credit),
        input_ratio=decision.reported_ratio,
        refund_rate=decision.refund_rate or "",
        refundable_incremental=_cents(decision.refundable_incremental),
        refundable_stock=_cents(decision.refundable_stock),
        refundable_total=_cents(decision.refundable_total),
    )
