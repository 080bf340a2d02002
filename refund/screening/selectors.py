"""Reads of the screening pages — always through the scoping gateway.

Runs (筛查批次) are bureau-level records gated by permission; their results are taxpayers' data, so
a branch officer sees only its branch's rows and totals (``taxpayer__branch``), and a taxpayer
outside the user's scope is a 404. Totals are aggregate queries: a run may hold a million rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, CharField, Count, Q, QuerySet, Sum, When
from django.db.models.functions import Left
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.scoping import scope_to_user, visible_branch_ids
from core.listing import sort_order
from core.periods import Period, format_period_cn
from taxpayers.industry import parse_industry_code, sections
from taxpayers.models import Taxpayer
from taxpayers.selectors import taxpayer_get_for_user

from ..labels import UNKNOWN_SIZE, regime_title, size_title
from ..models import ScreeningResult, ScreeningRun
from .case_builder import taxpayer_case_json
from .filters import ScreeningResultFilter
from .services import decide, result_from_decision

ZERO = Decimal("0")


# --- runs ----------------------------------------------------------------------------------------------


RUN_COLUMNS = {"created": "批次", "period": "申请所属期", "finished": "完成时间"}
"""筛查批次' sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
RUN_SORT_FIELDS = {"created": ("created_at",), "period": ("application_period",), "finished": ("finished_at",)}
RUN_SORT = "-created"


def screening_runs(*, sort: str | None = None) -> QuerySet[ScreeningRun]:
    """Every run, newest first or as ``sort`` says (bureau-level; views gate them by ``refund.view_screeningrun``)."""
    order = sort_order(sort, RUN_SORT_FIELDS, default=RUN_SORT, then=("-created_at",))
    return ScreeningRun.objects.select_related("created_by").order_by(*order)


def screening_run_get(*, pk: int) -> ScreeningRun:
    return get_object_or_404(ScreeningRun.objects.select_related("created_by"), pk=pk)


def is_branch_scoped(user) -> bool:
    """True when the user sees only some branches: run-wide figures must then be recomputed for its scope."""
    return visible_branch_ids(user) is not None


@dataclass(frozen=True)
class Figures:
    """Counts and amounts of (a part of) a run: how many screened, eligible, with data problems, and how much."""

    screened: int = 0
    eligible: int = 0
    errors: int = 0
    amount: Decimal = ZERO


FIGURE_AGGREGATES = {  # aliases differ from the field names: an alias may not shadow a filtered field
    "n_screened": Count("pk"),
    "n_eligible": Count("pk", filter=Q(eligible=True)),
    "n_errors": Count("pk", filter=~Q(error_code="")),
    "n_amount": Sum("refundable_total", filter=Q(eligible=True)),
}


def _figures(row: Mapping) -> Figures:
    return Figures(row["n_screened"], row["n_eligible"], row["n_errors"], row["n_amount"] or ZERO)


def run_figures_for_user(*, user, runs: list[ScreeningRun]) -> dict[int, Figures]:
    """Each run's figures as the user may see them: the stored totals, or for a branch officer its
    branch's part, in one grouped query over the page's runs."""
    if not is_branch_scoped(user):
        return {
            run.pk: Figures(run.processed_count, run.eligible_count, run.error_count, run.refundable_total)
            for run in runs
        }
    rows = (
        scope_to_user(ScreeningResult.objects.filter(run__in=runs), user=user, branch_field="taxpayer__branch")
        .values("run_id")
        .annotate(**FIGURE_AGGREGATES)
        .order_by()
    )
    figures = {row["run_id"]: _figures(row) for row in rows}
    return {run.pk: figures.get(run.pk, Figures()) for run in runs}


# --- results -------------------------------------------------------------------------------------------


def results_visible_to(*, user, run: ScreeningRun) -> QuerySet[ScreeningResult]:
    """The run's results of the taxpayers ``user`` may see, with taxpayer and branch joined."""
    results = ScreeningResult.objects.filter(run=run).select_related("taxpayer__branch")
    return scope_to_user(results, user=user, branch_field="taxpayer__branch")


def result_filterset(*, user, run: ScreeningRun, filters: Mapping | None) -> ScreeningResultFilter:
    """The bound filter set over the run's visible results; the page renders its form, its ``qs`` is the list."""
    return ScreeningResultFilter(data=filters, queryset=results_visible_to(user=user, run=run), user=user)


@dataclass(frozen=True)
class GroupRow:
    key: str
    label: str
    figures: Figures
    query: str = ""  # the results-page filter that lists this group ("regime=…"), empty when none


@dataclass(frozen=True)
class RunTotals:
    overall: Figures
    by_regime: list[GroupRow]
    by_size: list[GroupRow]
    by_industry: list[GroupRow]
    by_branch: list[GroupRow]


def _grouped(queryset: QuerySet, *keys) -> list[tuple[tuple, Figures]]:
    rows = queryset.values(*keys).annotate(**FIGURE_AGGREGATES).order_by()
    return [(tuple(row[k] for k in keys), _figures(row)) for row in rows]


def _add(a: Figures, b: Figures) -> Figures:
    return Figures(a.screened + b.screened, a.eligible + b.eligible, a.errors + b.errors, a.amount + b.amount)


def _ranked(rows: list[GroupRow]) -> list[GroupRow]:
    return sorted(rows, key=lambda r: (-r.figures.amount, -r.figures.eligible, r.key))


def run_totals_for_user(*, user, run: ScreeningRun) -> RunTotals:
    """Eligible count and refundable amount by regime, size, industry section and branch, in the user's scope.

    Five aggregate queries whatever the number of results; the industry key is the section letter
    (``C3411``) or, for a code kept without it (``3411``), the division, mapped to its section here.
    """
    results = results_visible_to(user=user, run=run).select_related(None)
    overall = _figures(results.aggregate(**FIGURE_AGGREGATES))

    by_regime = [
        GroupRow(regime or "", regime_title(regime), figures, f"regime={regime}" if regime else "")
        for (regime,), figures in _grouped(results, "regime")
    ]
    by_size = [
        GroupRow(size or "unknown", size_title(size) if size else UNKNOWN_SIZE, figures, f"size={size or 'unknown'}")
        for (size,), figures in _grouped(results, "size")
    ]

    industry_key = Case(
        When(taxpayer__industry_code__regex=r"^[A-Za-z]", then=Left("taxpayer__industry_code", 1)),
        default=Left("taxpayer__industry_code", 2),
        output_field=CharField(),
    )
    section_figures: dict[str, Figures] = {}
    for (key,), figures in _grouped(results.annotate(industry_key=industry_key), "industry_key"):
        industry = parse_industry_code(key) if key and key[0].isdigit() else None
        section = industry.section if industry else (key or "").upper()
        if section not in sections():
            section = ""
        section_figures[section] = _add(section_figures.get(section, Figures()), figures)
    by_industry = [
        GroupRow(
            section,
            f"{section} {sections()[section]}" if section else "行业代码无效",
            figures,
            f"industry={section}" if section else "",
        )
        for section, figures in section_figures.items()
    ]

    by_branch = [
        GroupRow(code, name, figures, f"branch={code}")
        for (code, name), figures in _grouped(results, "taxpayer__branch__code", "taxpayer__branch__name")
    ]
    return RunTotals(overall, _ranked(by_regime), _ranked(by_size), _ranked(by_industry), _ranked(by_branch))


# --- one taxpayer's explanation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    field: str
    label: str
    stored: object
    live: object


@dataclass
class Explanation:
    """The rules' live decision for one taxpayer, and the run's stored row when it came from a run."""

    taxpayer: Taxpayer
    application_period: Period
    application_date: dt.date
    options: dict
    case: dict
    decision: dict
    run: ScreeningRun | None = None
    stored: ScreeningResult | None = None
    differences: list[Difference] = field(default_factory=list)

    @property
    def in_run(self) -> bool:
        return self.stored is not None


def compare_with_stored(stored: ScreeningResult, decision: dict) -> list[Difference]:
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
    case = taxpayer_case_json(
        taxpayer_id=taxpayer.pk,
        application_period=application_period,
        application_date=application_date,
        options=options or None,
    )
    decision = decide(case)
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
    case: dict
    decision: dict
    immediate_enjoyed: bool


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
    case = taxpayer_case_json(
        taxpayer_id=explanation.taxpayer.pk,
        application_period=period,
        application_date=day,
        options=explanation.options or None,
        credit_level=credit_level or None,
        immediate_repaid=True if immediate_repaid else None,
    )
    changes = []
    if credit_level:
        changes.append(f"纳税信用级别为{credit_level}级")
    if period != explanation.application_period:
        changes.append(f"申请退税所属期为{format_period_cn(period)}（假定申请日期{day.isoformat()}）")
    if immediate_repaid:
        changes.append("即征即退、先征后返（退）税款已一次性全部缴回")
    enjoyed = bool(case["compliance"]["immediate_refund_since_2019_04"])
    return WhatIf(changes, period, day, case, decide(case), enjoyed)
