"""信用预警 pages: the three graded lists with their filters in the URL, their audited xlsx export, the batch
warning SMS with its confirmation, and the call/visit form of the taxpayer's credit page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from accounts.scoping import get_for_user_or_404
from core.errors import ApplicationError
from core.listing import paginate
from core.masking import mask_identifier, mask_mobile
from taxpayers.models import CreditLevel, Taxpayer

from ..models import CreditContact
from . import selectors, services

VIEW = "credit.view_creditprediction"
EXPORT = "credit.export_creditprediction"
CONTACT = "credit.add_creditcontact"
VIEW_CONTACTS = "credit.view_creditcontact"
SMS_BATCH_LIMIT = 500
FILTER_KEYS = ("current", "level", "branch", "q", "due")
EXPORT_HEADERS = (
    "纳税人识别号",
    "纳税人名称",
    "主管税务机关",
    "现级别",
    "预测得分",
    "预测级别",
    "可挽回分值",
    "最早纠正期限",
    "应纠正事项",
    "全部纠正后得分",
    "全部纠正后级别",
    "出口企业",
    "重点税源",
    "专精特新/创新型",
    "企业规模",
    "联系手机",
)


def _kind(kind: str) -> str:
    if kind not in selectors.LISTS:
        raise Http404("unknown warning list")
    return kind


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _what_to_correct(prediction) -> str:
    return "；".join(
        f"{w['indicator_name']}（{w['recorded_on']}，{w['points']}分，期限{w['deadline'] or '无'}）"
        for w in prediction.warnings
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def warning_list(request, kind: str):
    """One graded list: each row's points at stake, what to correct, by when, and what it restores."""
    kind = _kind(kind)
    listing = paginate(request, selectors.warning_list(user=request.user, kind=kind, filters=request.GET))
    context = {
        "kind": kind,
        "title": selectors.LISTS[kind][0],
        "lists": [(key, title) for key, (title, _) in selectors.LISTS.items()],
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "query": _query(request),
        "levels": CreditLevel.choices,
        "filters": {key: request.GET.get(key, "") for key in FILTER_KEYS},
        "year": selectors.prediction_year(),
        "can_export": request.user.has_perm(EXPORT),
        "can_contact": request.user.has_perm(CONTACT),
    }
    return render(request, "credit/warnings/list.html", context)


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def warning_export(request, kind: str):
    kind = _kind(kind)
    predictions = selectors.warning_list(user=request.user, kind=kind, filters=request.GET)
    rows = (
        (
            mask_identifier(p.taxpayer.identifier),
            p.taxpayer.name,
            p.taxpayer.branch.name,
            p.current_level or "—",
            p.score,
            p.level,
            p.points_at_stake,
            p.deadline,
            _what_to_correct(p),
            p.score_if_repaired,
            p.level_if_repaired,
            "是" if p.taxpayer.is_export_enterprise else "",
            "是" if p.taxpayer.is_key_taxpayer else "",
            "是" if p.taxpayer.is_specialized_sme or p.taxpayer.is_innovative_sme else "",
            p.taxpayer.get_size_display(),
            mask_mobile(p.taxpayer.legal_rep_mobile or p.taxpayer.tax_handler_mobile),
        )
        for p in predictions.iterator(chunk_size=1000)
    )
    return audited_xlsx_export(
        request,
        title=selectors.LISTS[kind][0],
        object_type="credit.creditprediction",
        headers=EXPORT_HEADERS,
        rows=rows,
    )


@login_required
@permission_required(CONTACT, raise_exception=True)
@require_http_methods(["GET", "POST"])
def warning_sms(request, kind: str):
    """批量预警短信: the confirmation (how many will be texted, who cannot be) and, posted, the sending, for the
    list's rows under its filters (at most ``SMS_BATCH_LIMIT``)."""
    kind = _kind(kind)
    data = request.POST if request.method == "POST" else request.GET
    predictions = list(selectors.warning_list(user=request.user, kind=kind, filters=data)[:SMS_BATCH_LIMIT])
    back = reverse("credit:warning_list", args=[kind])
    if request.method == "POST":
        try:
            outcome = services.credit_warning_sms_send(actor=request.user, predictions=predictions)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"预警短信：{outcome.enqueued} 户已进入发件箱，{outcome.unreachable} 户无法发送，"
                f"{outcome.skipped} 户没有尚未提醒的事项。",
            )
        query = "&".join(f"{k}={v}" for k in FILTER_KEYS if (v := data.get(k)))
        return redirect(f"{back}?{query}" if query else back)
    context = {
        "kind": kind,
        "title": selectors.LISTS[kind][0],
        "preview": selectors.sms_preview(predictions),
        "limit": SMS_BATCH_LIMIT,
        "filters": {key: request.GET.get(key, "") for key in FILTER_KEYS},
        "back": f"{back}?{_query(request)}",
    }
    return render(request, "credit/warnings/sms_confirm.html", context)


class ContactForm(forms.Form):
    kind = forms.ChoiceField(
        label="方式", choices=[(CreditContact.Kind.CALL, "电话"), (CreditContact.Kind.VISIT, "上门辅导")]
    )
    outcome = forms.ChoiceField(
        label="结果",
        choices=[
            (value, label)
            for value, label in CreditContact.Outcome.choices
            if value not in (CreditContact.Outcome.SENT, CreditContact.Outcome.NOT_SENT)
        ],
    )
    note = forms.CharField(label="说明", max_length=500, required=False)


@login_required
@permission_required(CONTACT, raise_exception=True)
@require_POST
def contact_add(request, pk: int):
    """登记电话或上门辅导 from the taxpayer's credit page; 404 outside the user's branches."""
    taxpayer = get_for_user_or_404(Taxpayer.objects.all(), user=request.user, pk=pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.credit_contact_record(actor=request.user, taxpayer=taxpayer, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已登记联系记录。")
    else:
        messages.error(request, "请选择联系方式和结果。")
    return redirect("credit:taxpayer", pk=taxpayer.pk)


def taxpayer_block(user, taxpayer) -> dict:
    """The warnings part of the taxpayer's credit page: its prediction, its contacts and the contact form."""
    if not user.has_perm(VIEW):
        return {}
    return {
        "prediction": selectors.prediction_of(taxpayer.pk),
        "contacts": selectors.contacts_of(taxpayer.pk) if user.has_perm(VIEW_CONTACTS) else [],
        "contact_form": ContactForm() if user.has_perm(CONTACT) else None,
    }

