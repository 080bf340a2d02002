"""追缴 pages: the clawbacks recorded in the ledger (filters in the URL, totals, xlsx export of exactly what the
filters show) and the form that records one for a paid application (the risk officer's). Thin: parse, call a
selector or ``ledger.clawbacks.clawback_record``, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.exports import audited_xlsx_export
from accounts.scoping import get_for_user_or_404
from core.errors import ApplicationError
from core.listing import active_filter_count, add_service_error, paginate, sort_columns, style_filter_form
from core.masking import mask_identifier
from core.money import format_yuan
from refund.models import RefundApplication

from . import clawbacks, selectors
from .views import _money_field

VIEW = "ledger.view_clawbacks"
EXPORT = "ledger.export_clawbacks"
RECORD = clawbacks.PERMISSION

CLAWBACK_HEADERS = (
    "追缴决定日期", "追缴决定文书号", "纳税人识别号", "纳税人名称", "主管税务机关", "退税类型", "申请退税所属期",
    "追缴金额（元）", "其中：增量（元）", "其中：存量（元）", "追缴原因", "登记人", "登记时间", "追缴通知短信",
)  # fmt: skip


def _bill_text(entry) -> str:
    if entry.bill_sms_id:
        return entry.bill_sms.get_status_display() + (f"（{entry.bill_error}）" if entry.bill_error else "")
    return f"未发送：{entry.bill_error}" if entry.bill_error else "—"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def clawback_list(request):
    """追缴记录: what the filters in the URL select, their totals and one page of rows (amounts clawed back)."""
    filterset = selectors.clawback_filterset(user=request.user, filters=request.GET)
    listing = paginate(request, filterset.qs)
    for entry in listing.page_obj.object_list:
        entry.clawed_back = -entry.amount
        entry.bill_text = _bill_text(entry)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.CLAWBACK_COLUMNS, default=selectors.CLAWBACK_SORT),
        "active_filters": active_filter_count(request),
        "totals": selectors.clawback_totals(filterset.qs),
        "export_query": query.urlencode(),
        "can_export": request.user.has_perm(EXPORT),
    }
    return render(request, "ledger/clawbacks.html", context)


def _rows(queryset):
    for entry in queryset.iterator(chunk_size=2000):
        yield (
            entry.paid_on,
            entry.decision_reference,
            mask_identifier(entry.identifier),
            entry.name,
            entry.branch.name,
            entry.get_refund_kind_display(),
            entry.application_period,
            -entry.amount,
            -entry.incremental_amount,
            -entry.stock_amount,
            entry.reason,
            str(entry.recorded_by) if entry.recorded_by_id else "",
            entry.created_at,
            _bill_text(entry),
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def clawback_export(request):
    """Exactly what the 追缴 page's filters show, identifiers masked; audited."""
    queryset = selectors.clawback_filterset(user=request.user, filters=request.GET).qs
    return audited_xlsx_export(
        request, title="追缴记录", object_type="ledger.ledgerentry", headers=CLAWBACK_HEADERS, rows=_rows(queryset)
    )


class ClawbackForm(forms.Form):
    amount = _money_field("追缴金额（元）")
    decided_on = forms.DateField(
        label="追缴决定日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写追缴决定日期。", "invalid": "请按 YYYY-MM-DD 填写日期。"},
    )
    reference = forms.CharField(
        label="追缴决定文书号",
        max_length=clawbacks.REFERENCE_MAX,
        help_text="《税务处理决定书》等文书的文号；同一文书号只能登记一次。",
        error_messages={"required": "请填写追缴决定文书号。"},
    )
    reason = forms.CharField(
        label="追缴原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写追缴原因。"},
    )


CLAWBACK_FIELDS = {"amount": "amount"}


@login_required
@permission_required(RECORD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def clawback_create(request, pk: int):
    """登记追缴 of a paid application: its payments and earlier clawbacks, and the form. A refusal re-renders the
    form (with what was typed and the reason); success goes to the 追缴 page."""
    application = get_for_user_or_404(
        RefundApplication.objects.select_related("taxpayer", "branch"), user=request.user, pk=pk
    )
    status = 200
    if request.method == "POST":
        form = ClawbackForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                entry = clawbacks.clawback_record(actor=request.user, application=application, **form.cleaned_data)
            except ApplicationError as exc:
                add_service_error(form, exc, fields=CLAWBACK_FIELDS)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    f"已登记追缴 {application.taxpayer.name} {format_yuan(-entry.amount)} 元"
                    f"（文书号 {entry.decision_reference}），已记入退税台账并发送追缴通知。",
                )
                return redirect(reverse("ledger:clawbacks") + f"?reference={entry.decision_reference}")
    else:
        form = ClawbackForm(initial={"decided_on": timezone.localdate()})
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", "form-control form-control-sm")
    context = {"application": application, "form": form, **selectors.application_ledger(application)}
    return render(request, "ledger/clawback_form.html", context, status=status)
