"""Thin views: the inbox for every officer; the outbox and batches for service officers (notify perms).

Reads go through ``notify.selectors`` (branch scope from the accounts gateway, see there); writes through
``notify.services``; resends and exports are audited by those services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from core.listing import sort_columns
from core.xlsx import export_filename, file_download

from . import selectors, services
from .exports import BATCHES_TITLE, MESSAGES_TITLE, batches_xlsx, messages_xlsx
from .forms import ResendForm
from .models import MessageTemplate, SmsBatch, SmsMessage
from .text import mask_mobile

STATUS_TAGS = {
    "queued": "tag-waiting",
    "sending": "tag-progress",
    "accepted": "tag-progress",
    "delivered": "tag-done",
    "failed": "tag-failed",
    "cancelled": "tag-attention",
}
BATCH_TAGS = {"queued": "tag-waiting", "sending": "tag-progress", "done": "tag-done"}
MESSAGE_FILTERS = ("status", "template", "batch", "branch", "date_from", "date_to", "q")
BATCH_FILTERS = ("status", "template", "branch", "date_from", "date_to")
SEND_PERMISSION = "notify.send_smsmessage"
EXPORT_PERMISSION = "notify.export_smsmessage"
RESEND_SAMPLE = 20  # rows listed on the resend confirmation


def _filters(request, keys) -> dict:
    return {key: request.GET[key].strip() for key in keys if request.GET.get(key, "").strip()}


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _list_query(filters: dict, sort: str) -> str:
    """The list's query string without the page (pagination links and the export keep the sort)."""
    return urlencode({**filters, "sort": sort} if sort else filters)


def _branch_names(user) -> dict[int, str]:
    return dict(selectors.branch_choices(user))


def _list_page(request, *, keys, rows_for, columns: dict, default: str, statuses):
    """What the outbox's and the batches' lists share: the filtered, sorted page (each row with its branch's name)
    and the context with the page's links, the sortable columns, the filters with their choices, and the export
    of what they show."""
    filters = _filters(request, keys)
    sort = request.GET.get("sort", "")
    page = Paginator(rows_for(filters=filters, user=request.user, sort=sort), 50).get_page(request.GET.get("page"))
    names = _branch_names(request.user)
    for row in page:
        row.branch_name = names.get(row.branch_id, "")
    context = {
        "page_obj": page,
        "page_query": _list_query(filters, sort),
        "columns": sort_columns(request, columns, default=default),
        "filters": filters,
        "statuses": statuses,
        "templates": MessageTemplate.objects.order_by("code"),
        "branches": names.items(),
        "can_export": request.user.has_perm(EXPORT_PERMISSION),
        "export_query": _list_query(filters, sort),
    }
    return page, context


def _export_view(*, keys, rows_for, to_xlsx, title: str, object_type: str):
    """The export of a list: exactly what its filters show, numbers masked, as xlsx; the export is audited."""

    @login_required
    @permission_required(EXPORT_PERMISSION, raise_exception=True)
    @require_GET
    def export(request):
        filters = _filters(request, keys)
        rows = rows_for(filters=filters, user=request.user, sort=request.GET.get("sort", ""))
        content, count = to_xlsx(rows, branch_names=_branch_names(request.user))
        services.sms_export_record(actor=request.user, description=title, row_count=count, query=urlencode(filters),
                                   object_type=object_type)
        return file_download(content, export_filename(title))

    return export


# --- inbox -------------------------------------------------------------------------------------------------
@login_required
def inbox(request):
    sort = request.GET.get("sort", "")
    page = Paginator(selectors.inbox_for(request.user, sort=sort), 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "page_query": _list_query({}, sort),
        "columns": sort_columns(request, selectors.INBOX_COLUMNS, default=selectors.INBOX_SORT),
    }
    return render(request, "notify/inbox.html", context)


@login_required
@require_POST
def inbox_mark_read_view(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    services.inbox_mark_read(user=request.user, ids=ids)
    return redirect(_safe_next(request, "notify:inbox"))


# --- messages ----------------------------------------------------------------------------------------------
@login_required
@permission_required("notify.view_smsmessage", raise_exception=True)
@require_GET
def message_list(request):
    page, context = _list_page(request, keys=MESSAGE_FILTERS, rows_for=selectors.message_list,
                               columns=selectors.MESSAGE_COLUMNS, default=selectors.MESSAGE_SORT,
                               statuses=SmsMessage.Status.choices)
    filters = context["filters"]
    resendable = set(selectors.resendable(SmsMessage.objects.filter(pk__in=[r.pk for r in page])).values_list(
        "pk", flat=True))
    for row in page:
        row.masked = mask_mobile(row.recipient)
        row.tag = STATUS_TAGS.get(row.status, "tag-waiting")
        row.can_resend = row.pk in resendable
    batch = None
    if filters.get("batch", "").isdigit():
        batch = selectors.batch_list(user=request.user).filter(pk=int(filters["batch"])).first()
    context.update(batch=batch, can_send=request.user.has_perm(SEND_PERMISSION))
    return render(request, "notify/message_list.html", context)


message_export = _export_view(keys=MESSAGE_FILTERS, rows_for=selectors.message_list, to_xlsx=messages_xlsx,
                              title=MESSAGES_TITLE, object_type="notify.smsmessage")  # 短信记录 as xlsx


def _resend_candidates(request):
    """The failed, not yet resent messages the POST names (``id``s, or every one of ``batch``), in scope."""
    scoped = selectors.message_list(filters={}, user=request.user)
    batch = None
    if request.POST.get("batch", "").isdigit():
        batch = selectors.batch_get(pk=int(request.POST["batch"]), user=request.user)
        rows = scoped.filter(batch=batch)
    else:
        rows = scoped.filter(pk__in=[int(i) for i in request.POST.getlist("id") if i.isdigit()])
    return batch, selectors.resendable(rows)


def _resend(request, *, default_next: str):
    batch, candidates = _resend_candidates(request)
    form = ResendForm(request.POST if request.POST.get("confirm") else None)
    back = _safe_next(request, default_next)
    if form.is_valid():
        try:
            rows = services.sms_resend_failed(messages=candidates, reason=form.cleaned_data["reason"],
                                              actor=request.user)
        except services.SmsRejected as exc:
            messages.error(request, exc.message)
        else:
            held = services.quiet_until(timezone.now())
            note = f"，静默时段，将于 {timezone.localtime(held):%H:%M} 后发送" if held else ""
            messages.success(request, f"已重新加入发送队列 {len(rows)} 条{note}")
        return redirect(back)
    count = candidates.count()
    sample = list(candidates.select_related("template")[:RESEND_SAMPLE])
    for row in sample:
        row.masked = mask_mobile(row.recipient)
    context = {
        "form": form,
        "count": count,
        "sample": sample,
        "batch": batch,
        "ids": [] if batch else list(candidates.values_list("pk", flat=True)),
        "next": back,
        "quiet_until": services.quiet_until(timezone.now()),
    }
    return render(request, "notify/resend_confirm.html", context, status=200 if count else 400)


@login_required
@permission_required(SEND_PERMISSION, raise_exception=True)
@require_POST
def messages_resend(request):
    """重发失败短信: first the confirmation (how many, what happens, why), then the audited resend."""
    return _resend(request, default_next="notify:message_list")


@login_required
@permission_required(SEND_PERMISSION, raise_exception=True)
@require_POST
def message_resend(request, pk: int):
    """One message: the same confirmation and reason as a selection of several."""
    selectors.message_get(pk=pk, user=request.user)
    post = request.POST.copy()
    post.setlist("id", [str(pk)])
    if post.get("reason", "").strip():
        post["confirm"] = "1"
    request.POST = post
    return _resend(request, default_next="notify:message_list")


# --- batches -----------------------------------------------------------------------------------------------
@login_required
@permission_required("notify.view_smsbatch", raise_exception=True)
@require_GET
def batch_list(request):
    page, context = _list_page(request, keys=BATCH_FILTERS, rows_for=selectors.batch_list,
                               columns=selectors.BATCH_COLUMNS, default=selectors.BATCH_SORT,
                               statuses=SmsBatch.Status.choices)
    selectors.attach_progress(page.object_list)
    for batch in page:
        batch.tag = BATCH_TAGS.get(batch.status, "tag-waiting")
    context.update(can_create=request.user.has_perm("notify.add_smsbatch"))
    return render(request, "notify/batch_list.html", context)


batch_export = _export_view(keys=BATCH_FILTERS, rows_for=selectors.batch_list, to_xlsx=batches_xlsx,
                            title=BATCHES_TITLE, object_type="notify.smsbatch")  # 短信批次 as xlsx


@login_required
@permission_required("notify.view_smsbatch", raise_exception=True)
@require_GET
def batch_detail(request, pk: int):
    """The batch page: progress (refreshed by htmx until done), counts, its latest messages, resend failed."""
    batch = selectors.batch_get(pk=pk, user=request.user)
    selectors.attach_progress([batch])
    batch.tag = BATCH_TAGS.get(batch.status, "tag-waiting")
    context = {"batch": batch, "statuses": SmsMessage.Status.choices}
    if request.headers.get("HX-Request") and request.GET.get("part") == "progress":
        return render(request, "notify/_batch_progress.html", context)
    latest = list(selectors.message_list(filters={"batch": str(pk)}, user=request.user)[:20])
    for row in latest:
        row.masked = mask_mobile(row.recipient)
        row.tag = STATUS_TAGS.get(row.status, "tag-waiting")
    context.update(
        latest=latest,
        branch_name=_branch_names(request.user).get(batch.branch_id, ""),
        resendable=selectors.resendable_count(batch),
        can_send=request.user.has_perm(SEND_PERMISSION),
        can_export=request.user.has_perm(EXPORT_PERMISSION),
        quiet_until=services.quiet_until(timezone.now()),
    )
    return render(request, "notify/batch_detail.html", context)
