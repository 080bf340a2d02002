"""One taxpayer's explanation (为什么符合/不符合) and the what-if beside it (假设测算): reads, scoped to the user.

The rules decide again, live, on the taxpayer's data; with a run, the live decision is compared with the run's
stored row (the data may have changed since). The what-if is the same rules on the same data with another
rating, period or a repaid 即征即退.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from django.utils import timezone

from core.periods import Period, format_period_cn
from taxpayers.models import Taxpayer
from taxpayers.selectors import taxpayer_get_for_user

from ..models import ScreeningResult, ScreeningRun
from ..rules import Case
from .case_builder import level_in_force, taxpayer_case
from .decisions import Outcome, contract_output, decision_of, result_from_decision


@dataclass(frozen=True)
class Difference:
    field: str
    label: str
    stored: object
    live: object


@dataclass
class Explanation:
    """The rules' live decision for one taxpayer on its case, and the run's stored row when it came from a run.

    ``decision`` is the outcome as the contract's JSON, the form the page shows.
    """

    taxpayer: Taxpayer
    application_period: Period
    application_date: dt.date
    options: dict
    case: Case
    outcome: Outcome
    run: ScreeningRun | None = None
    stored: ScreeningResult | None = None
    differences: list[Difference] = field(default_factory=list)

    @cached_property
    def level_in_force(self) -> str:
        """The level the rules read on the explanation's date ("" when unrated), for the what-if's 不变."""
        return level_in_force(self.taxpayer.pk, self.application_date)

    @cached_property
    def decision(self) -> dict:
        return contract_output(self.outcome)

    @property
    def in_run(self) -> bool:
        return self.stored is not None


def compare_with_stored(stored: ScreeningResult, decision: Outcome) -> list[Difference]:
    """What the stored result says differently from the rules now (the data changed since the run)."""
    live = result_from_decision(run=stored.run, taxpayer_id=stored.taxpayer_id, decision=decision)
    differences = []
    for name in ScreeningResult.OUTCOME_FIELDS:
        before, after = getattr(stored, name), getattr(live, name)
        if before != after:
            label = str(ScreeningResult._meta.get_field(name).verbose_name)
            if name == "failed_mask":
                before, after = stored.failed_conditions, live.failed_conditions
            differences.append(Difference(name, label, before, after))
    return differences


def explanation_for_user(
    *,
    user,
    taxpayer_id: int,
    run: ScreeningRun | None = None,
    application_period: Period | None = None,
    application_date: dt.date | None = None,
) -> Explanation:
    """The explanation of one taxpayer (404 outside the user's scope).

    With a run: the run's period, date and options, compared with its stored row. Without one, the
    given period (default: this month), and the latest finished run of that period supplies the
    date and options (and its row) unless a date is given.
    """
    taxpayer = taxpayer_get_for_user(user=user, pk=taxpayer_id)
    if run is None:
        application_period = application_period or Period.of(timezone.localdate())
        if application_date is None:
            run = ScreeningRun.latest_succeeded(application_period)
    if run is not None:
        application_period = run.application_period
        application_date = run.application_date
        options = dict(run.options or {})
    else:
        application_date = application_date or _default_date(application_period)
        options = {}
    case = taxpayer_case(
        taxpayer_id=taxpayer.pk,
        application_period=application_period,
        application_date=application_date,
        options=options or None,
    )
    decision = decision_of(case)
    explanation = Explanation(taxpayer, application_period, application_date, options, case, decision, run=run)
    if run is not None:
        explanation.stored = ScreeningResult.objects.filter(run=run, taxpayer=taxpayer).select_related("run").first()
        if explanation.stored is not None:
            explanation.differences = compare_with_stored(explanation.stored, decision)
    return explanation


def _default_date(period: Period) -> dt.date:
    today = timezone.localdate()
    return today if Period.of(today) == period else period.first_day


@dataclass(frozen=True)
class WhatIf:
    """One hypothetical beside the actual decision: what changed and what the rules say then."""

    changes: list[str]
    application_period: Period
    application_date: dt.date
    case: Case
    outcome: Outcome
    immediate_enjoyed: bool

    @cached_property
    def decision(self) -> dict:
        """The outcome as the contract's JSON, the form the page shows."""
        return contract_output(self.outcome)


def what_if_for(
    explanation: Explanation,
    *,
    credit_level: str = "",
    application_period: Period | None = None,
    application_date: dt.date | None = None,
    immediate_repaid: bool = False,
) -> WhatIf:
    """The same rules on the same data with another rating, period or a repaid 即征即退 (the explanation is
    already scoped to the user)."""
    period = application_period or explanation.application_period
    day = application_date or explanation.application_date
    case = what_if_case(
        taxpayer_id=explanation.taxpayer.pk,
        application_period=period,
        application_date=day,
        options=explanation.options,
        credit_level=credit_level,
        immediate_repaid=immediate_repaid,
    )
    changes = []
    if credit_level:
        changes.append(f"纳税信用级别为{credit_level}级")
    if period != explanation.application_period:
        changes.append(f"申请退税所属期为{format_period_cn(period)}（假定申请日期{day.isoformat()}）")
    if immediate_repaid:
        changes.append("即征即退、先征后返（退）税款已一次性全部缴回")
    enjoyed = case.compliance.immediate_refund_since_2019_04
    return WhatIf(changes, period, day, case, decision_of(case), enjoyed)


def what_if_case(
    *,
    taxpayer_id: int,
    application_period: Period,
    application_date: dt.date,
    options: dict | None,
    credit_level: str = "",
    immediate_repaid: bool = False,
) -> Case:
    """The taxpayer's case on its data with another rating or a repaid 即征即退 (nothing else changes)."""
    return taxpayer_case(
        taxpayer_id=taxpayer_id,
        application_period=application_period,
        application_date=application_date,
        options=options or None,
        credit_level=credit_level or None,
        immediate_repaid=True if immediate_repaid else None,
    )


def what_if_rated_in_run(*, run: ScreeningRun, taxpayer_id: int, credit_level: str) -> Outcome:
    """The what-if of one taxpayer of ``run`` (its period, date and options) rated ``credit_level``: what that
    rating would unlock (信用修复提示)."""
    return decision_of(
        what_if_case(
            taxpayer_id=taxpayer_id,
            application_period=run.application_period,
            application_date=run.application_date,
            options=dict(run.options or {}),
            credit_level=credit_level,
        )
    )
