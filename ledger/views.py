"""台账 pages: the refund ledger (filters, totals, export), the refunded and not-yet-refunded lists for the finance
bureau and the treasury, 待退库 with a payment form per application, the treasury receipt import and the
morning registrations. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.listing import (
    active_filter_count,
    add_service_error,
    mark_invalid,
    paginate,
    sort_columns,
    style_filter_form,
)
from core.masking import mask_identifier
from core.money import format_yuan
from core.xlsx import file_download
from refund.labels import regime_title, size_title

from . import selectors, services
from .models import LedgerEntry

VIEW = "ledger.view_ledgerentry"
EXPORT = "ledger.export_ledgerentry"
PAY = "ledger.add_treasurypayment"
VIEW_RUNS = "ledger.view_ledgerrun"
REGISTER = "ledger.register_ledger"
SAMPLE = Path(__file__).parent / "tests" / "data" / "treasury_receipts_sample.xlsx"

CREDIT_TAGS = {
    LedgerEntry.CreditCheck.PENDING: "tag-waiting",
    LedgerEntry.CreditCheck.REDUCED: "tag-done",
    LedgerEntry.CreditCheck.NOT_REDUCED: "tag-attention",
    LedgerEntry.CreditCheck.NOT_APPLICABLE: "tag-waiting",
}
LEDGER_HEADERS = (
    "退库日期", "纳税人识别号", "纳税人名称", "主管税务机关", "退税类型", "申请退税所属期", "退税额（元）",
    "其中：增量（元）", "其中：存量（元）", "适用政策", "企业规模", "行业代码", "退库凭证号", "台账登记",
    "账单短信", "留抵核减", "核对所属期", "核对说明", "台账类型",
)  # fmt: skip
REFUNDED_HEADERS = (
    "序号", "纳税人识别号", "纳税人名称", "主管税务机关", "退税类型", "退库金额（元）", "其中：增量（元）",
    "其中：存量（元）", "退库凭证号", "退库日期", "台账类型",
)  # fmt: skip
UNPAID_HEADERS = (
    "序号", "纳税人识别号", "纳税人名称", "主管税务机关", "退税类型", "申请退税所属期", "申请文书号",
    "确认退税额（元）", "其中：增量（元）", "其中：存量（元）", "审批日期", "状态", "已退库金额（元）",
    "待退库金额（元）",
)  # fmt: skip


def _voucher(entry: LedgerEntry) -> str:
    """A payment's voucher number; a clawback's decision reference (追缴决定文书号)."""
    return entry.payment.voucher_number if entry.payment_id else (entry.decision_reference or "")


def _bill_text(entry: LedgerEntry) -> str:
    if entry.bill_sms_id:
        return entry.bill_sms.get_status_display() + (f"（{entry.bill_error}）" if entry.bill_error else "")
    if entry.bill_error:
        return f"未发送：{entry.bill_error}"
    return "待登记" if entry.run_id is None and not entry.is_clawback else "—"


def _decorate(entries):
    for entry in entries:
        entry.credit_tag = CREDIT_TAGS.get(entry.credit_check, "tag-waiting")
        entry.regime_title = regime_title(entry.regime) if entry.regime else "—"
        entry.size_title = size_title(entry.size) if entry.size else "—"
        entry.bill_text = _bill_text(entry)
    return entries


def _export_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _export(request, filterset_for, title: str, headers: tuple[str, ...], rows):
    """Exactly the rows the page's filters in the URL select (``filterset_for``), as ``rows`` writes them under
    ``headers``; audited on the rows' model."""
    queryset = filterset_for(user=request.user, filters=request.GET).qs
    object_type = queryset.model._meta.label_lower
    return audited_xlsx_export(request, title=title, object_type=object_type, headers=headers, rows=rows(queryset))


# --- 退税台账 -------------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def entries(request):
    """退税台账: what the filters in the URL select, their totals (万元) and one page of rows (元)."""
    filterset = selectors.ledger_entry_filterset(user=request.user, filters=request.GET)
    queryset = filterset.qs
    listing = paginate(request, queryset)
    _decorate(listing.page_obj.object_list)
    context = {
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.LEDGER_COLUMNS, default=selectors.LEDGER_SORT),
        "active_filters": active_filter_count(request),
        "totals": selectors.ledger_totals(queryset),
        "export_query": _export_query(request),
        "can_export": request.user.has_perm(EXPORT),
    }
    return render(request, "ledger/entries.html", context)


def _ledger_rows(queryset):
    for entry in queryset.iterator(chunk_size=2000):
        yield (
            entry.paid_on,
            mask_identifier(entry.identifier),
            entry.name,
            entry.branch.name,
            entry.get_refund_kind_display(),
            entry.application_period,
            entry.amount,
            entry.incremental_amount,
            entry.stock_amount,
            regime_title(entry.regime) if entry.regime else "",
            size_title(entry.size) if entry.size else "",
            entry.industry_code,
            _voucher(entry),
            entry.run.day if entry.run_id else ("—" if entry.is_clawback else "待登记"),
            _bill_text(entry),
            entry.get_credit_check_display(),
            entry.credit_check_period,
            entry.credit_check_note,
            entry.get_kind_display(),
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def entries_export(request):
    """Exactly what the ledger page's filters show, identifiers masked; audited."""
    return _export(request, selectors.ledger_entry_filterset, "退税台账", LEDGER_HEADERS, _ledger_rows)


# The finance bureau's and the treasury's lists carry full identifiers: they reconcile them against their own
# records by identifier. The export permission and the audit event stand guard instead of the mask. A clawback
# (追缴) is a row with negative amounts and its decision's reference, so the list adds up to the net refunded.
def _refunded_rows(queryset):
    for number, entry in enumerate(queryset.order_by("paid_on", "id").iterator(chunk_size=2000), start=1):
        yield (
            number,
            entry.identifier,
            entry.name,
            entry.branch.name,
            entry.get_refund_kind_display(),
            entry.amount,
            entry.incremental_amount,
            entry.stock_amount,
            _voucher(entry),
            entry.paid_on,
            entry.get_kind_display(),
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def refunded_export(request):
    """已退税清单 for the finance bureau and the treasury: the ledger's filters, in their columns, full
    identifiers; audited."""
    return _export(request, selectors.ledger_entry_filterset, "已退税清单", REFUNDED_HEADERS, _refunded_rows)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def entry_detail(request, pk: int):
    """One entry: a payment with the clawbacks that reversed part of it, or a clawback with what it reversed."""
    entry = selectors.ledger_entry_get_for_user(user=request.user, pk=pk)
    _decorate([entry])
    reversals = (entry.reversals if entry.is_clawback else entry.reversed_by).select_related(
        "clawback", "reversed_entry__payment"
    )
    return render(request, "ledger/entry_detail.html", {"entry": entry, "reversals": list(reversals)})


# --- 待退库 and the payment form ------------------------------------------------------------------------------


def _money_field(label: str, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=16,
        decimal_places=2,
        min_value=0,
        error_messages={
            "required": f"请填写{label.removesuffix('（元）')}。",
            "invalid": "请填写金额（元，最多两位小数），如 12345.67。",
            "max_decimal_places": "金额最多两位小数（分）。",
            "max_digits": "金额过大，请确认单位是“元”。",
            "min_value": "金额不能为负数。",
        },
    )


class PaymentForm(forms.Form):
    voucher_number = forms.CharField(
        label="退库凭证号", max_length=40, error_messages={"required": "请填写退库凭证号。"}
    )
    amount = _money_field("退库金额（元）")
    paid_on = forms.DateField(
        label="退库日期", error_messages={"required": "请填写退库日期。", "invalid": "请按 YYYY-MM-DD 填写日期。"}
    )
    incremental = _money_field("其中增量（元）", required=False)
    stock = _money_field("其中存量（元）", required=False)


# The payment service names the input it refuses ("voucher", "amount", "paid_on", …); the form's names for them.
PAYMENT_FIELDS = {"voucher": "voucher_number"}


def _unpaid_context(request, *, query: QueryDict | None = None, payment_form=None, payment_for=None) -> dict:
    """The 待退库 page of the filters in ``query`` (default: the URL's); ``payment_form`` is the bound, refused
    payment form of the application ``payment_for``, shown in its row with what was typed and its errors."""
    if query is not None:
        request.GET = query  # the list the officer posted from (its "next"), not the POST's empty query
    filterset = selectors.unpaid_filterset(user=request.user, filters=request.GET)
    listing = paginate(request, filterset.qs)
    rows = list(listing.page_obj.object_list)
    for app in rows:
        app.payment_form = payment_form if payment_for is not None and app.pk == payment_for.pk else None
    listing.page_obj.object_list = rows
    return {
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.UNPAID_COLUMNS, default=selectors.UNPAID_SORT),
        "active_filters": active_filter_count(request),
        "totals": selectors.unpaid_totals(filterset.qs),
        "export_query": _export_query(request),
        "today": timezone.localdate(),
        "can_export": request.user.has_perm(EXPORT),
        "back_url": request.get_full_path() if query is None else "",
        # The refused application is not on the page any more (paid or filtered away meanwhile): say so above.
        "payment_error_elsewhere": payment_for if payment_for is not None and payment_for not in rows else None,
        "payment_form": payment_form,
    }


@login_required
@permission_required(PAY, raise_exception=True)
@require_GET
def unpaid(request):
    """待退库: approved applications the treasury has not paid in full, oldest approval first, each with its
    payment form."""
    return render(request, "ledger/unpaid.html", _unpaid_context(request))


def _unpaid_rows(queryset):
    for number, app in enumerate(queryset.iterator(chunk_size=2000), start=1):
        yield (
            number,
            app.taxpayer.identifier,
            app.taxpayer.name,
            app.branch.name,
            app.get_kind_display(),
            app.application_period,
            app.document_number or "",
            app.confirmed_amount,
            app.confirmed_incremental,
            app.confirmed_stock,
            timezone.localdate(app.approved_at) if app.approved_at else None,
            app.get_state_display(),
            app.paid_amount,
            app.unpaid_amount,
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def unpaid_export(request):
    """未退税清单 (approved, not yet paid in full) for the finance bureau and the treasury, full identifiers;
    audited."""
    return _export(request, selectors.unpaid_filterset, "未退税清单", UNPAID_HEADERS, _unpaid_rows)


@login_required
@permission_required(PAY, raise_exception=True)
@require_POST
def payment_create(request, pk: int):
    """录入退库 from a row of 待退库. Refused input re-renders the list the officer was on (400) with this row's
    form as it was typed and each error beside its field; success goes back to that list."""
    application = selectors.unpaid_application_get_for_user(user=request.user, pk=pk)
    form = PaymentForm(request.POST)
    back = request.POST.get("next") or ""
    unpaid_url = reverse("ledger:unpaid")
    target = back if back.startswith(unpaid_url) else unpaid_url
    status = 400
    if form.is_valid():
        try:  # the form's fields are the service's arguments: voucher_number, amount, paid_on, incremental, stock
            entry = services.payment_record(actor=request.user, application=application, **form.cleaned_data)
        except ApplicationError as exc:
            add_service_error(form, exc, fields=PAYMENT_FIELDS)
            status = exc.status_code
        else:
            text = (
                f"已录入 {application.taxpayer.name} 的退库 {format_yuan(entry.amount)} 元"
                f"（{entry.paid_on.isoformat()}），已记入退税台账。"
            )
            if application.state == application.State.PARTLY_PAID:
                text += (
                    f"该申请为部分退库：累计已退 {format_yuan(application.paid_amount)} 元，"
                    f"尚余 {format_yuan(application.unpaid_amount)} 元待退库，仍在本页。"
                )
            messages.success(request, text)
            return redirect(target)
    form.focus = next((name for name in form.fields if name in form.errors), "voucher_number")
    context = _unpaid_context(
        request, query=QueryDict(target.partition("?")[2]), payment_form=form, payment_for=application
    )
    context["back_url"] = target
    return render(request, "ledger/unpaid.html", context, status=status)


# --- 国库回执导入 ----------------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(label="国库退库回执", help_text="xlsx（或 csv），列见右侧说明。")


@login_required
@permission_required(PAY, raise_exception=True)
@require_http_methods(["GET", "POST"])
def payment_import(request):
    errors, warnings = [], []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                outcome = services.payments_import_xlsx(actor=request.user, file=form.cleaned_data["file"])
            except services.PaymentImportRejected as exc:
                errors, warnings = exc.errors, exc.warnings
                form.add_error(None, exc.message)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                text = (
                    f"已导入退库 {len(outcome.created)} 笔，合计 {format_yuan(outcome.total_amount)} 元，已记入退税台账"
                )
                if outcome.skipped:
                    text += f"；{outcome.skipped} 笔此前已导入，未重复记录"
                messages.success(request, text + "。" + "；".join(outcome.warnings))
                return redirect("ledger:payment_import")
    else:
        form = ImportForm()
    return render(request, "ledger/payment_import.html", {"form": form, "errors": errors, "warnings": warnings})


@login_required
@permission_required(PAY, raise_exception=True)
@require_GET
def payment_import_sample(request):
    return file_download(SAMPLE.open("rb"), "国库退库回执-样例.xlsx")


# --- 每日登记 --------------------------------------------------------------------------------------------------


class RegisterForm(forms.Form):
    day = forms.DateField(
        label="退库日期",
        error_messages={"required": "请选择要登记的退库日期。", "invalid": "请按 YYYY-MM-DD 填写日期。"},
    )

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise forms.ValidationError(f"{day.isoformat()} 尚未到来，不能登记。")
        return day


def _runs_page(request, *, register_form: RegisterForm | None = None, status: int = 200):
    """The runs page; ``register_form`` is a refused registration, shown with the date typed and its error."""
    listing = paginate(request, selectors.ledger_runs(sort=request.GET.get("sort")), per_page=31)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.RUN_COLUMNS, default=selectors.RUN_SORT),
        "unregistered": selectors.unregistered_days(),
        "can_register": request.user.has_perm(REGISTER),
        "yesterday": yesterday,
        "register_form": register_form or RegisterForm(initial={"day": yesterday}),
    }
    return render(request, "ledger/runs.html", context, status=status)


@login_required
@permission_required(VIEW_RUNS, raise_exception=True)
@require_GET
def runs(request):
    return _runs_page(request)


@login_required
@permission_required(REGISTER, raise_exception=True)
@require_POST
def run_register(request):
    """登记 by hand (the 08:30 job normally does it); registers only what is not yet registered. A refused date
    re-renders the page (400) with the date as typed and the reason beside it."""
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return _runs_page(request, register_form=mark_invalid(form), status=400)
    day = form.cleaned_data["day"]
    try:
        run = services.ledger_register_day(day=day, actor=request.user)
    except ApplicationError as exc:
        add_service_error(form, exc)
        return _runs_page(request, register_form=mark_invalid(form), status=exc.status_code)
    messages.success(
        request,
        f"{day.isoformat()} 台账登记完成：当日共 {run.entry_count} 笔，{format_yuan(run.total_amount)} 元，"
        f"账单短信 {run.bill_count} 条。{run.message}",
    )
    return redirect("ledger:runs")
