"""Thin views: the inbox for every officer; the outbox and batches for service officers (notify perms)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from . import selectors, services
from .exports import messages_xlsx
from .models import MessageTemplate, SmsMessage
from .text import mask_mobile

STATUS_TAGS = {
    "queued": "tag-waiting",
    "sending": "tag-progress",
    "accepted": "tag-progress",
    "delivered": "tag-done",
    "failed": "tag-failed",
    "cancelled": "tag-attention",
}
FILTER_KEYS = ("status", "template", "batch", "date_from", "date_to", "q")


def _filters(request) -> dict:
    return {key: request.GET[key].strip() for key in FILTER_KEYS if request.GET.get(key, "").strip()}


@login_required
def inbox(request):
    page = Paginator(selectors.inbox_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notify/inbox.html", {"page_obj": page, "page_query": ""})


@login_required
@require_POST
def inbox_mark_read_view(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    services.inbox_mark_read(user=request.user, ids=ids)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notify:inbox")


@login_required
@permission_required("notify.view_smsmessage", raise_exception=True)
def message_list(request):
    filters = _filters(request)
    page = Paginator(selectors.message_list(filters=filters), 50).get_page(request.GET.get("page"))
    for row in page:
        row.masked = mask_mobile(row.recipient)
        row.tag = STATUS_TAGS.get(row.status, "tag-waiting")
    context = {
        "page_obj": page,
        "page_query": urlencode(filters),
        "filters": filters,
        "statuses": SmsMessage.Status.choices,
        "templates": MessageTemplate.objects.order_by("code"),
        "can_send": request.user.has_perm("notify.send_smsmessage"),
        "can_export": request.user.has_perm("notify.export_smsmessage"),
        "export_query": urlencode(filters),
    }
    return render(request, "notify/message_list.html", context)


@login_required
@permission_required("notify.export_smsmessage", raise_exception=True)
def message_export(request):
    rows = selectors.message_list(filters=_filters(request))
    response = HttpResponse(
        messages_xlsx(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="sms-{stamp}.xlsx"'
    return response


@login_required
@permission_required("notify.send_smsmessage", raise_exception=True)
@require_POST
def message_resend(request, pk: int):
    message = get_object_or_404(SmsMessage, pk=pk)
    try:
        services.sms_resend(message=message, actor=request.user)
    except services.SmsRejected as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新加入发送队列")
    return redirect(request.POST.get("next") if url_has_allowed_host_and_scheme(
        request.POST.get("next", ""), allowed_hosts={request.get_host()}) else "notify:message_list")


@login_required
@permission_required("notify.view_smsbatch", raise_exception=True)
def batch_list(request):
    page = Paginator(selectors.batch_list(), 50).get_page(request.GET.get("page"))
    for batch in page:
        batch.shown = batch.progress()
    return render(request, "notify/batch_list.html", {"page_obj": page, "page_query": ""})
