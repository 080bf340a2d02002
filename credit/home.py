"""The credit officer's 工作台 block (registered with ``accounts.home_blocks``): taxpayers by level in force and by
predicted level, the heads of the at-risk and to-follow lists, and the repair, 复核 and 复评 cases by state with
the overdue ones. Every count links to its list, filtered in the URL; everything is within the user's branches,
so a branch officer who sees cases but not the predictions gets the cases part alone."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from taxpayers.models import CreditLevel

from .models import CreditCase
from .repairs.selectors import case_counts
from .repairs.views import VIEW_CASES
from .warnings import selectors as warning_selectors
from .warnings.views import VIEW as VIEW_PREDICTIONS

HEAD_ROWS = 5  # rows of each list shown on the 工作台


def _url(name: str, *args, **query) -> str:
    base = reverse(name, args=args)
    return f"{base}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else base


def _levels(user) -> dict:
    counts = warning_selectors.warning_counts(user=user)
    rows = [
        {
            "level": level,
            "label": label,
            "current": counts.current.get(level, 0),
            "predicted": counts.predicted.get(level, 0),
            "current_url": _url("credit:warning_list", "all", current=level),
            "predicted_url": _url("credit:warning_list", "all", level=level),
        }
        for level, label in CreditLevel.choices
    ]
    heads = [
        {
            "kind": kind,
            "title": warning_selectors.LISTS[kind][0],
            "count": getattr(counts, kind),
            "url": _url("credit:warning_list", kind),
            "rows": list(warning_selectors.warning_list(user=user, kind=kind)[:HEAD_ROWS]),
        }
        for kind in ("at_risk", "follow")
    ]
    return {
        "year": counts.year,
        "levels": rows,
        "unrated": counts.current.get("", 0),
        "unrated_url": _url("credit:warning_list", "all", current=warning_selectors.UNRATED),
        "total": sum(counts.current.values()),
        "total_url": _url("credit:warning_list", "all"),
        "heads": heads,
        "repairable": counts.repairable,
        "repairable_url": _url("credit:warning_list", "repairable"),
    }


def _cases(user) -> dict:
    by_state, overdue = case_counts(user=user, today=timezone.localdate())
    states = [
        {"label": label, "count": by_state.get(state, 0), "url": _url("credit:cases", state=state)}
        for state, label in CreditCase.State.choices
    ]
    return {
        "states": states,
        "open": sum(by_state.get(state, 0) for state in CreditCase.OPEN_STATES),
        "open_url": _url("credit:cases", state="open"),
        "overdue": overdue,
        "overdue_url": _url("credit:cases", state="open", overdue=1),
        "total": sum(by_state.values()),
    }


def home_block(request) -> dict | None:
    """The block's context, or None for a user who sees neither the predictions nor the cases."""
    user = request.user
    sees_predictions, sees_cases = user.has_perm(VIEW_PREDICTIONS), user.has_perm(VIEW_CASES)
    if not (sees_predictions or sees_cases):
        return None
    return {
        "template": "credit/_home_block.html",
        "predictions": _levels(user) if sees_predictions else None,
        "cases": _cases(user) if sees_cases else None,
    }
