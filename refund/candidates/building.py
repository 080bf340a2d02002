"""How a push date's candidate lists are built, step by step, inside ``candidate_lists_build``'s transaction.

1. Read: the run's eligible results with something to refund, the higher bureau's entries for the date
   (上级下发名单) and the items pushed earlier in the application period.
2. Choose the taxpayers: the screened ones not yet done with (applied, refunded, declined, found ineligible)
   unless a higher list names them again, then those only a higher list names; none already on a list of the
   date (a 即时名单 may have taken one earlier that day).
3. Write one list for the service section and one per branch (every branch, even an empty one), then the
   items — each a snapshot of its screening result with the funnel carried over from its earlier item — and
   the lists' counts, and one audit event.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import Branch
from core.money import format_yuan
from core.periods import Period
from taxpayers.models import Taxpayer, VatReturn

from ..models import CandidateItem, CandidateList, ScreeningRun, UpperListEntry
from ..screening.case_builder import tax_period_of
from .funnel import DONE_STAGES, stage_of

logger = structlog.get_logger(__name__)

CHUNK = 2000
ZERO = Decimal("0")


@dataclass(frozen=True)
class BuildOutcome:
    push_date: dt.date
    application_period: Period
    lists: list[CandidateList]
    created: bool

    @property
    def service_list(self) -> CandidateList | None:
        return next((lst for lst in self.lists if lst.is_service_list), None)

    @property
    def item_count(self) -> int:
        service = self.service_list
        return service.item_count if service else 0


_RESULT_FIELDS = (
    "pk", "taxpayer_id", "regime", "eligible", "error_code", "failed_mask", "current_credit",
    "refundable_incremental", "refundable_stock", "refundable_total",
)  # fmt: skip
_CARRIED_FIELDS = (
    "declared_at", "applied_at", "refunded_at", "closed_as", "closed_at", "closed_by_id", "closed_reason",
    "verification", "verification_note", "verified_on", "verified_by_id",
)  # fmt: skip
_NO_RESULT = {
    "pk": None, "regime": "", "eligible": None, "error_code": "", "failed_mask": 0, "current_credit": None,
    "refundable_incremental": ZERO, "refundable_stock": ZERO, "refundable_total": ZERO,
}  # fmt: skip
"""An item's snapshot when the run has no row for the taxpayer (named only by a higher list)."""


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- 1. what the build reads ----------------------------------------------------------------------------------


@dataclass
class Sources:
    """Everything the items are made of, read before the first write."""

    screened: dict[int, dict]  # taxpayer id → eligible result with a refundable amount
    results: dict[int, dict]  # the screened ones and the results of the taxpayers only a higher list names
    upper: dict[int, dict]  # taxpayer id → the higher bureau's amount, note and sources
    earlier: dict[int, dict]  # taxpayer id → its latest earlier item of the period, with its first push date
    chosen: list[int] = field(default_factory=list)
    taxpayers: dict[int, dict] = field(default_factory=dict)  # id → branch and filing frequency
    return_period: dict[int, Period] = field(default_factory=dict)  # the return each candidate must file
    filed: set[tuple[int, Period]] = field(default_factory=set)  # (taxpayer, period) of returns on file


def _screened(run: ScreeningRun) -> dict[int, dict]:
    rows = run.results.filter(eligible=True, refundable_total__gt=0).values(*_RESULT_FIELDS)
    return {row["taxpayer_id"]: row for row in rows}


def _upper_entries(push_date: dt.date) -> dict[int, dict]:
    """taxpayer id → amount and note of the latest import naming it, and every source's name."""
    merged: dict[int, dict] = {}
    entries = (
        UpperListEntry.objects.filter(upload__push_date=push_date)
        .order_by("upload__created_at", "upload_id", "row")
        .values("taxpayer_id", "amount", "note", "upload__source_name")
    )
    for entry in entries:
        slot = merged.setdefault(entry["taxpayer_id"], {"amount": None, "note": "", "sources": []})
        if entry["amount"] is not None:
            slot["amount"] = entry["amount"]
        if entry["note"]:
            slot["note"] = entry["note"]
        if entry["upload__source_name"] not in slot["sources"]:
            slot["sources"].append(entry["upload__source_name"])
    return merged


def _with_upper_results(run: ScreeningRun, screened: dict[int, dict], upper: dict[int, dict]) -> dict[int, dict]:
    """The screened results and the run's rows (any outcome) of the taxpayers a higher list adds."""
    results = dict(screened)
    for chunk in chunks([pk for pk in upper if pk not in results]):
        rows = run.results.filter(taxpayer_id__in=chunk).values(*_RESULT_FIELDS)
        results.update({row["taxpayer_id"]: row for row in rows})
    return results


def _earlier_items(period: Period, push_date: dt.date, taxpayer_ids: list[int] | None = None) -> dict[int, dict]:
    """For each taxpayer pushed earlier in the application period: the first push date and the latest item."""
    earlier: dict[int, dict] = {}
    rows = CandidateItem.objects.filter(application_period=period, push_date__lt=push_date)
    if taxpayer_ids is not None:
        rows = rows.filter(taxpayer_id__in=taxpayer_ids)
    rows = rows.order_by("push_date", "pk").values("taxpayer_id", "push_date", "stage", *_CARRIED_FIELDS)
    for row in rows:
        first = earlier.get(row["taxpayer_id"], {}).get("first_listed_on", row["push_date"])
        earlier[row["taxpayer_id"]] = {**row, "first_listed_on": first}
    return earlier


def read_sources(*, run: ScreeningRun, push_date: dt.date, period: Period) -> Sources:
    screened = _screened(run)
    upper = _upper_entries(push_date)
    sources = Sources(screened, _with_upper_results(run, screened, upper), upper, _earlier_items(period, push_date))
    return _completed(sources, push_date=push_date, period=period)


def read_adhoc_sources(*, run: ScreeningRun, push_date: dt.date, taxpayer_ids: list[int]) -> Sources:
    """The same reads for a few taxpayers of ``run`` (即时名单): their eligible results and earlier items."""
    rows = run.results.filter(taxpayer_id__in=taxpayer_ids, eligible=True, refundable_total__gt=0)
    screened = {row["taxpayer_id"]: row for row in rows.values(*_RESULT_FIELDS)}
    period = run.application_period
    sources = Sources(screened, screened, {}, _earlier_items(period, push_date, taxpayer_ids))
    return _completed(sources, push_date=push_date, period=period)


def _completed(sources: Sources, *, push_date: dt.date, period: Period) -> Sources:
    """Whom to push (none already on a list of the date) and what their items need to know."""
    listed = set(CandidateItem.objects.filter(push_date=push_date).values_list("taxpayer_id", flat=True))
    sources.chosen = [pk for pk in _chosen(sources) if pk not in listed]
    sources.taxpayers = _taxpayer_rows(sources.chosen)
    sources.return_period = {
        pk: tax_period_of(period, row["filing_frequency"]) for pk, row in sources.taxpayers.items()
    }
    sources.filed = _filed_returns(sources.return_period)
    return sources


# --- 2. whom to push ------------------------------------------------------------------------------------------


def _chosen(sources: Sources) -> list[int]:
    """The screened taxpayers not yet done with in the period (unless a higher list names them again), then those
    only a higher list names: the order the items are made in."""
    screened, upper, earlier = sources.screened, sources.upper, sources.earlier
    again = [pk for pk in screened if pk in upper or earlier.get(pk, {}).get("stage") not in DONE_STAGES]
    return again + [pk for pk in upper if pk not in screened]


def _taxpayer_rows(chosen: list[int]) -> dict[int, dict]:
    taxpayers: dict[int, dict] = {}
    for chunk in chunks(chosen):
        rows = Taxpayer.objects.filter(pk__in=chunk).values("pk", "branch_id", "filing_frequency")
        taxpayers.update({row["pk"]: row for row in rows})
    return taxpayers


def _filed_returns(return_period: dict[int, Period]) -> set[tuple[int, Period]]:
    """(taxpayer, period) of the returns the candidates must file that are already on file (已申报)."""
    filed: set[tuple[int, Period]] = set()
    periods = set(return_period.values())
    for chunk in chunks(list(return_period)):
        filed.update(
            VatReturn.objects.filter(taxpayer_id__in=chunk, period__in=periods).values_list("taxpayer_id", "period")
        )
    return filed


# --- 3. the writes --------------------------------------------------------------------------------------------


def _create_lists(
    *, actor, push_date: dt.date, period: Period, run: ScreeningRun, taxpayers: dict[int, dict]
) -> tuple[CandidateList, dict[int, CandidateList]]:
    """The service section's list, then one list per branch (every branch, and any other a candidate is in)."""
    branch_ids = set(Branch.objects.filter(kind=Branch.Kind.BRANCH).values_list("pk", flat=True))
    branch_ids |= {row["branch_id"] for row in taxpayers.values()}
    common = {"push_date": push_date, "application_period": period, "screening_run": run, "built_by": actor}
    service_list = CandidateList.objects.create(audience=CandidateList.Audience.SERVICE, **common)
    branch_lists = {
        branch.pk: CandidateList.objects.create(audience=CandidateList.Audience.BRANCH, branch=branch, **common)
        for branch in Branch.objects.filter(pk__in=branch_ids).order_by("sort_order", "code")
    }
    return service_list, branch_lists


def _source(pk: int, sources: Sources) -> str:
    if pk not in sources.upper:
        return CandidateItem.Source.SCREENING
    return CandidateItem.Source.BOTH if pk in sources.screened else CandidateItem.Source.UPPER


def _snapshot_fields(result: dict | None) -> dict:
    """The screening result's figures as the item keeps them."""
    row = result or _NO_RESULT
    return {
        "screening_result_id": row["pk"],
        "regime": row["regime"],
        "eligible": row["eligible"],
        "error_code": row["error_code"],
        "failed_mask": row["failed_mask"],
        "current_credit": row["current_credit"],
        "refundable_incremental": row["refundable_incremental"],
        "refundable_stock": row["refundable_stock"],
        "refundable_total": row["refundable_total"],
    }


def _upper_fields(extra: dict | None) -> dict:
    if not extra:
        return {"upper_amount": None, "upper_note": "", "upper_source": ""}
    return {
        "upper_amount": extra["amount"],
        "upper_note": extra["note"][:500],
        "upper_source": "、".join(extra["sources"])[:200],
    }


def make_item(pk: int, *, sources: Sources, candidate_list: CandidateList, push_date: dt.date, now) -> CandidateItem:
    """One taxpayer's item: its snapshot, the funnel carried from its earlier item, 已申报 if its return is on
    file, and the stage those facts give."""
    branch_id = sources.taxpayers[pk]["branch_id"]
    previous = sources.earlier.get(pk)
    item = CandidateItem(
        candidate_list=candidate_list,
        push_date=push_date,
        application_period=candidate_list.application_period,
        branch_id=branch_id,
        taxpayer_id=pk,
        source=_source(pk, sources),
        previously_listed=previous is not None,
        first_listed_on=previous["first_listed_on"] if previous else push_date,
        return_period=sources.return_period[pk],
        **_snapshot_fields(sources.results.get(pk)),
        **_upper_fields(sources.upper.get(pk)),
    )
    for name in _CARRIED_FIELDS if previous else ():
        setattr(item, name, previous[name])
    if item.declared_at is None and (pk, item.return_period) in sources.filed:
        item.declared_at = now
    item.stage = stage_of(item)
    return item


def _create_items(*, sources: Sources, branch_lists: dict[int, CandidateList], push_date: dt.date) -> list:
    now = timezone.now()
    items = [
        make_item(
            pk,
            sources=sources,
            candidate_list=branch_lists[sources.taxpayers[pk]["branch_id"]],
            push_date=push_date,
            now=now,
        )
        for pk in sources.chosen
        if pk in sources.taxpayers  # a taxpayer deleted since the run has no item
    ]
    items.sort(key=lambda i: (-i.refundable_total, i.taxpayer_id))
    CandidateItem.objects.bulk_create(items, batch_size=1000)
    return items


def _totals(items: list[CandidateItem]) -> dict[int | None, dict]:
    """Per branch (and None: the whole date) the items, the new ones, the higher list's and the amount."""
    totals: dict[int | None, dict] = defaultdict(lambda: {"n": 0, "new": 0, "upper": 0, "amount": ZERO})
    for item in items:
        for key in (item.branch_id, None):
            slot = totals[key]
            slot["n"] += 1
            slot["new"] += 0 if item.previously_listed else 1
            slot["upper"] += 1 if item.source != CandidateItem.Source.SCREENING else 0
            slot["amount"] += item.refundable_total
    return totals


def _count(lists: list[CandidateList], totals: dict[int | None, dict]) -> None:
    for lst in lists:
        slot = totals[lst.branch_id]
        lst.item_count, lst.new_count = slot["n"], slot["new"]
        lst.upper_count, lst.refundable_total = slot["upper"], slot["amount"]
    CandidateList.objects.bulk_update(lists, ["item_count", "new_count", "upper_count", "refundable_total"])


def build_lists(*, actor, push_date: dt.date, period: Period, run: ScreeningRun) -> list[CandidateList]:
    """The push date's lists, service list first, in the caller's transaction."""
    sources = read_sources(run=run, push_date=push_date, period=period)
    service_list, branch_lists = _create_lists(
        actor=actor, push_date=push_date, period=period, run=run, taxpayers=sources.taxpayers
    )
    items = _create_items(sources=sources, branch_lists=branch_lists, push_date=push_date)
    lists = [service_list, *branch_lists.values()]
    totals = _totals(items)
    _count(lists, totals)
    service = totals[None]
    record_event(
        actor=actor,
        verb="candidate_lists_build",
        target=service_list,
        summary=(
            f"生成 {push_date.isoformat()} 候选名单（申请所属期 {period}，依据筛查 #{run.pk}）："
            f"分局名单 {len(branch_lists)} 份，候选 {service['n']} 户（新增 {service['new']} 户，"
            f"上级下发 {service['upper']} 户），可退税额合计 {format_yuan(service['amount'])} 元"
        ),
        changes={"push_date": push_date.isoformat(), "run": run.pk, "items": service["n"], "lists": len(lists)},
    )
    logger.info("candidate_lists_built", push_date=push_date.isoformat(), items=service["n"], lists=len(lists))
    return lists
