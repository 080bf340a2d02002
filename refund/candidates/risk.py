"""The risk scan of candidate lists before they are pushed (推送前风险扫描).

The lists' taxpayers are scanned with the risk app's indicator library when the push date's lists are built (the
service section's list, which holds every branch's items, in the build's transaction) and when a 即时名单 is pushed.
A risky candidate stays on its list: it is flagged for the branch's pre-application check (申请前调查), and its page
shows the hits with the figures that fired them.

Dependencies point risk → refund, never back, so refund does not import risk: the risk app registers a scanner here
from its ``AppConfig.ready()`` with ``register_candidate_scanner``. The scanner is any object with
``scan(*, candidate_list, actor)`` (stores the scan), ``flags(item_ids)`` returning ``{item id: flag}`` for the items
its latest scans graded (each flag with ``grade`` — ``low``/``medium``/``high`` —, ``label`` and ``summary``), and
``panel(item)`` returning the item page's risk panel (HTML). Without a scanner nothing is scanned or flagged.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models import CandidateItem, CandidateList

FLAGGED_GRADES = ("medium", "high")  # 中、高: the branch checks before the taxpayer applies

_SCANNER: list = []


def register_candidate_scanner(scanner) -> None:
    """Set the scanner (the risk app, from its ``AppConfig.ready()``); a second registration replaces the first."""
    _SCANNER[:] = [scanner]


def unregister_candidate_scanner() -> None:
    _SCANNER.clear()


def registered_candidate_scanner():
    """The scanner registered (None: none), so that a test can take it out and put it back."""
    return _SCANNER[0] if _SCANNER else None


def candidate_list_scan(*, candidate_list: CandidateList, actor) -> None:
    """Scan ``candidate_list``'s taxpayers before it is pushed (stored by the risk app, in the caller's
    transaction); nothing without a scanner."""
    if _SCANNER:
        _SCANNER[0].scan(candidate_list=candidate_list, actor=actor)


def candidate_flags(items: Iterable[CandidateItem]) -> dict[int, object]:
    """The items of ``items`` their latest scan graded 中 or 高, by id: flagged for 申请前调查."""
    ids = [item.pk for item in items]
    if not _SCANNER or not ids:
        return {}
    return {pk: flag for pk, flag in _SCANNER[0].flags(ids).items() if flag.grade in FLAGGED_GRADES}


def candidate_risk_panel(item: CandidateItem) -> str:
    """The candidate page's risk panel (grade and hits with evidence) as the scanner renders it; "" without one."""
    return _SCANNER[0].panel(item) if _SCANNER else ""
