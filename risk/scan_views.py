"""The scans' pages (风险扫描): the list of scans with their figures and, for risk officers, the start of a scan of
all taxpayers (run by a worker); a scan's hits by family and severity with their evidence, filtered in the URL and
scoped to the user's branches; the hits' audited xlsx export. Thin: selectors read, a service starts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.exports import audited_xlsx_export
from accounts.models import Branch
from accounts.scoping import visible_branch_ids
from core.listing import active_filter_count, paginate, style_filter_form
from core.masking import mask_identifier

from . import selectors, services
from .forms import HitFilterForm
from .models import Scan

VIEW_SCANS = "risk.view_scan"
START_SCAN = "risk.add_scan"
VIEW_HITS = "risk.view_riskhit"
EXPORT_HITS = "risk.export_riskhit"
SCANS_PER_PAGE = 30
HITS_PER_PAGE = 50
STATUS_TAGS = {Scan.Status.RUNNING: "tag-progress", Scan.Status.SUCCEEDED: "tag-done", Scan.Status.FAILED: "tag-failed"}
EXPORT_HEADERS = ("纳税人识别号", "纳税人名称", "主管税务机关", "风险类别", "风险指标", "风险程度", "疑点依据")


@login_required
@permission_required(VIEW_SCANS, raise_exception=True)
@require_GET
def scan_list(request):
    """风险扫描: every scan the user may see (``kind`` filters), its day, who started it and its figures."""
    kind = request.GET.get("kind", "")
    listing = paginate(request, selectors.scans_for_user(user=request.user, kind=kind), per_page=SCANS_PER_PAGE)
    scans = list(listing.page_obj)
    figures = selectors.scan_figures(user=request.user, scans=scans)
    for scan in scans:
        scan.figures, scan.tag = figures[scan.pk], STATUS_TAGS.get(scan.status, "tag-waiting")
    context = {
        "scans": scans,
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "kinds": Scan.Kind.choices,
        "kind": kind,
        "can_start": request.user.has_perm(START_SCAN),
        "branch_scoped": visible_branch_ids(request.user) is not None,
    }
    return render(request, "risk/scan_list.html", context)


@login_required
@permission_required(START_SCAN, raise_exception=True)
@require_POST
def scan_start(request):
    """发起全部纳税人风险扫描: enqueued after commit; while one is running, that one is opened instead."""
    scan, started = services.risk_scan_all_start(actor=request.user)
    if started:
        messages.success(request, "已发起全部纳税人风险扫描，后台正在处理。可以离开本页，稍后在风险扫描中查看结果。")
    else:
        messages.info(request, "已有一次全部纳税人风险扫描正在进行，已为您打开；完成后可再次发起。")
    return redirect("risk:scan", pk=scan.pk)


def _hit_filters(request) -> HitFilterForm:
    scoped = visible_branch_ids(request.user) is not None
    branches = None if scoped else Branch.objects.filter(kind=Branch.Kind.BRANCH).order_by("code")
    return style_filter_form(HitFilterForm(request.GET or None, branches=branches))


@login_required
@permission_required(VIEW_HITS, raise_exception=True)
@require_GET
def scan_detail(request, pk: int):
    """A scan: its figures, its hits by family and severity (each count a link), and the hits with their evidence
    under the filters in the URL."""
    scan = selectors.scan_for_user(user=request.user, pk=pk)
    hits = selectors.scan_hits(user=request.user, scan=scan, filters=request.GET)
    listing = paginate(request, hits, per_page=HITS_PER_PAGE)
    scan.tag = STATUS_TAGS.get(scan.status, "tag-waiting")
    context = {
        "scan": scan,
        "matrix": selectors.hit_matrix(user=request.user, scan=scan),
        "rows": [selectors.hit_row(hit) for hit in listing.page_obj],
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "form": _hit_filters(request),
        "active_filters": active_filter_count(request),
        "can_export": request.user.has_perm(EXPORT_HITS),
        "figures": selectors.scan_figures(user=request.user, scans=[scan])[scan.pk],
        "branch_scoped": visible_branch_ids(request.user) is not None,
    }
    return render(request, "risk/scan_detail.html", context)


@login_required
@permission_required(EXPORT_HITS, raise_exception=True)
@require_GET
def scan_export(request, pk: int):
    """The scan's hits under the page's filters, one row each, identifiers masked as on the page."""
    scan = selectors.scan_for_user(user=request.user, pk=pk)
    hits = selectors.scan_hits(user=request.user, scan=scan, filters=request.GET)
    rows = (
        (
            mask_identifier(row.hit.taxpayer.identifier),
            row.hit.taxpayer.name,
            row.hit.taxpayer.branch.name,
            row.family,
            row.title,
            row.hit.get_severity_display(),
            row.evidence_text,
        )
        for row in map(selectors.hit_row, hits.iterator(chunk_size=2000))
    )
    return audited_xlsx_export(
        request,
        title=f"风险疑点（{scan.as_of:%Y-%m-%d}扫描）",
        object_type="risk.riskhit",
        headers=EXPORT_HEADERS,
        rows=rows,
    )
