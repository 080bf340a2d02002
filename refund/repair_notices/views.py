"""信用修复提示 pages: the list of a screening (filters in the URL, xlsx export), listing again on demand, and the
batch SMS with its confirmation. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.listing import active_filter_count, paginate, style_filter_form
from core.masking import mask_identifier

from ..labels import regime_title
from ..models import ScreeningRun
from . import selectors, services

VIEW = "refund.view_repairnotice"
EXPORT = "refund.export_repairnotice"
LIST = "refund.list_repairnotices"
SEND = "refund.send_repairnotices"

EXPORT_HEADERS = (
    "纳税人识别号", "纳税人名称", "主管税务机关", "筛查时信用级别", "B级时适用政策", "B级时可退税额（元）", "列入时间",
    "发送情况", "发送时间", "未能发送的原因",
)  # fmt: skip


def _run(request) -> ScreeningRun | None:
    """The run the URL names (``run``), else the latest with notices, else the latest screening."""
    value = request.GET.get("run", "")
    if value:
        if not value.isdigit():
            raise Http404
        run = ScreeningRun.objects.filter(pk=int(value), status=ScreeningRun.Status.SUCCEEDED).first()
        if run is None:
            raise Http404
        return run
    return selectors.notice_runs().first() or selectors.latest_screening()


def _sent_label(notice) -> str:
    if notice.sent_at:
        return "已发送"
    return "未能发送" if notice.send_error or notice.sms_id else "未发送"


def _filterset(request, run):
    return selectors.repair_notice_filterset(user=request.user, run=run, filters=request.GET)


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def repair_notices(request):
    """信用修复提示: the taxpayers of a screening failing only on their rating, with what B would unlock."""
    run = _run(request)
    context = {
        "run": run,
        "runs": list(selectors.notice_runs()[:12]),
        "can_list": request.user.has_perm(LIST),
        "can_send": request.user.has_perm(SEND),
        "can_export": request.user.has_perm(EXPORT),
        "active_filters": active_filter_count(request, ignore=("page", "run")),
        "export_query": _query(request),
        "latest": selectors.latest_screening(),
    }
    if run is not None:
        filterset = _filterset(request, run)
        listing = paginate(request, filterset.qs)
        for notice in listing.page_obj.object_list:
            notice.sent_label = _sent_label(notice)
            notice.regime_title = regime_title(notice.regime_if_b) if notice.regime_if_b else ""
        context.update(
            {
                "form": style_filter_form(filterset.form),
                "page_obj": listing.page_obj,
                "page_query": listing.page_query,
                "pending": filterset.qs.filter(sms__isnull=True, sent_at__isnull=True, send_error="").count(),
            }
        )
    return render(request, "refund/repair_notices/list.html", context)


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def repair_notices_export(request):
    """Exactly what the page's filters show, masked identifiers, as xlsx; audited."""
    run = _run(request)
    if run is None:
        raise Http404

    def rows():
        for notice in _filterset(request, run).qs.iterator(chunk_size=2000):
            taxpayer = notice.taxpayer
            yield (
                mask_identifier(taxpayer.identifier),
                taxpayer.name,
                taxpayer.branch.name,
                notice.level,
                regime_title(notice.regime_if_b) if notice.regime_if_b else "",
                notice.refundable_if_b,
                notice.listed_at,
                _sent_label(notice),
                notice.sent_at,
                notice.send_error,
            )

    return audited_xlsx_export(
        request,
        title=f"信用修复提示名单-筛查{run.pk}",
        object_type="refund.repairnotice",
        headers=EXPORT_HEADERS,
        rows=rows(),
    )


@login_required
@permission_required(LIST, raise_exception=True)
@require_POST
def repair_notices_build(request):
    """生成名单 on demand (a ratings import does it by itself): the latest screening's new rows."""
    try:
        outcome = services.repair_notices_list(actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("refund:repair_notices")
    messages.success(
        request, f"已依据筛查 #{outcome.run.pk} 生成信用修复提示名单：新增 {outcome.added} 户，共 {outcome.listed} 户。"
    )
    return redirect(f"{reverse('refund:repair_notices')}?run={outcome.run.pk}")


@login_required
@permission_required(SEND, raise_exception=True)
@require_http_methods(["GET", "POST"])
def repair_notices_send(request):
    """GET: the confirmation — how many of the filtered notices will get an SMS, and its text; POST: send them."""
    run = _run(request)
    if run is None:
        raise Http404
    filterset = _filterset(request, run)
    pending = filterset.qs.filter(sms__isnull=True, sent_at__isnull=True, send_error="")
    back = f"{reverse('refund:repair_notices')}?{_query(request)}"
    if request.method == "POST":
        try:
            outcome = services.repair_notices_send(actor=request.user, notices=list(pending))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            text = f"已将 {outcome.enqueued} 条信用修复提示短信放入发件箱"
            if outcome.unreachable:
                text += f"；{outcome.unreachable} 户没有有效的手机号码或已退订，未发送（见“发送情况”列）"
            messages.success(request, text + "。")
        return redirect(back)
    try:
        template, template_error = services.notice_template(), ""
    except ApplicationError as exc:
        template, template_error = None, exc.message
    context = {
        "run": run,
        "count": pending.count(),
        "total": filterset.qs.count(),
        "template": template,
        "template_error": template_error,
        "back": back,
        "query": _query(request),
    }
    return render(request, "refund/repair_notices/send_confirm.html", context)
