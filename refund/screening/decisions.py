"""The rules' decision on one case as the screening uses it, and the stored row (``ScreeningResult``) of it.

``decide`` is the single-taxpayer path (the set-based statement in ``sql`` must agree with it); JSON in, the
contract's output dict out. Pure apart from building unsaved model instances.
"""

from __future__ import annotations

from decimal import Decimal

from core.errors import ApplicationError
from core.periods import Period

from ..models import ScreeningResult, ScreeningRun
from ..rules import CaseError, assess, parse_case
from ..rules.conditions import CONDITION_BITS


def period_input(value: Period | str) -> Period:
    """An application period a caller gave (a ``Period``, or YYYY-MM text from a task or the API); the Chinese
    error otherwise."""
    try:
        return value if isinstance(value, Period) else Period.parse(value)
    except ValueError:
        raise ApplicationError(f"申请所属期“{value}”无效，应为 YYYY-MM（如 2026-03）。") from None


def decide(data: dict) -> dict:
    """The contract output with trace for a case JSON, or ``{"error", "message"}`` when it cannot be assessed."""
    try:
        return assess(parse_case(data)).as_contract_dict(with_trace=True)
    except CaseError as exc:
        return exc.as_dict()


def result_from_case(*, run: ScreeningRun, taxpayer_id: int, data: dict) -> ScreeningResult:
    return result_from_decision(run=run, taxpayer_id=taxpayer_id, decision=decide(data))


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def result_from_decision(*, run: ScreeningRun, taxpayer_id: int, decision: dict) -> ScreeningResult:
    """The stored row of a contract output (or error object) of the rules."""
    if "error" in decision:
        return ScreeningResult(run=run, taxpayer_id=taxpayer_id, error_code=decision["error"])
    return ScreeningResult(
        run=run,
        taxpayer_id=taxpayer_id,
        regime=decision["regime"] or "",
        eligible=decision["eligible"],
        failed_mask=sum(CONDITION_BITS[c["code"]] for c in decision["conditions"] if not c["passed"]),
        size=decision["size"] or "",
        current_credit=_money(decision["current_credit"]),
        base_credit=_money(decision["base_credit"]),
        incremental_credit=_money(decision["incremental_credit"]),
        stock_credit=_money(decision["stock_credit"]),
        input_ratio=_money(decision["input_ratio"]),
        refund_rate=decision["refund_rate"] or "",
        refundable_incremental=_money(decision["refundable_incremental"]),
        refundable_stock=_money(decision["refundable_stock"]),
        refundable_total=_money(decision["refundable_total"]),
    )
