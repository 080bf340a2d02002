"""Reads of the screening pages — always through the scoping gateway (one taxpayer's explanation: ``explanation``).

Runs (筛查批次) are bureau-level records gated by permission; their results are taxpayers' data, so
a branch officer sees only its branch's rows and totals (``taxpayer__branch``), and a taxpayer
outside the user's scope is a 404. Totals are aggregate queries: a run may hold a million rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, CharField, Count, Q, QuerySet, Sum, When
from django.db.models.functions import Left
from django.shortcuts import get_object_or_404

from accounts.scoping import scope_to_user, visible_branch_ids
from core.industry import parse_industry_code, sections
from core.listing import sort_order
from taxpayers.models import Taxpayer

from ..labels import UNKNOWN_SIZE, regime_title, size_title
from ..models import ScreeningResult, ScreeningRun
from .filters import ScreeningResultFilter

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


def screenable_taxpayers():
    """Every general taxpayer not deregistered: the population of a screening run."""
    return Taxpayer.objects.filter(general_taxpayer_since__isnull=False).exclude(
        status=Taxpayer.Status.DEREGISTERED
    )
