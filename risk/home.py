"""The risk officer's 工作台 block "风险疑点" (registered with ``accounts.home_blocks``): the latest scan of all
taxpayers, its hits by family and severity within the user's branches, each count a link to the scan's hits
filtered in the URL."""

from __future__ import annotations

from . import selectors
from .scan_views import VIEW_HITS


def home_block(request) -> dict | None:
    """The block's context, or None for a user who may not see hits."""
    user = request.user
    if not user.has_perm(VIEW_HITS):
        return None
    scan = selectors.latest_full_scan()
    return {
        "template": "risk/_home_block.html",
        "scan": scan,
        "matrix": selectors.hit_matrix(user=user, scan=scan) if scan is not None else None,
        "figures": selectors.scan_figures(user=user, scans=[scan])[scan.pk] if scan is not None else None,
    }
