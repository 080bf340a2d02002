"""银税互动 pages: the promotion list (filters in the URL, paged, identifiers and phones masked), its audited
internal export, one taxpayer's outreach and loans with the forms to record them, and the loans list.

No page or file here is meant for a bank: banks reach taxpayers through the e-tax bureau with their consent."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.exports import audited_xlsx_export
from accounts.scoping import get_for_user_or_404
from core.errors import ApplicationError
from core.listing import paginate
from core.masking import mask_identifier, mask_mobile
from taxpayers.models import Taxpayer

from ..models import BankTaxOutreach
from . import selectors, services

VIEW = "credit.view_banktaxoutreach"
VIEW_LOANS = "credit.view_banktaxloan"
TELL = "credit.add_banktaxoutreach"
ADD_LOAN = "credit.add_banktaxloan"
EXPORT = "credit.export_banktaxoutreach"
FILTER_KEYS = ("q", "level", "branch", "flag", "told")
LOAN_FILTER_KEYS = ("q", "year", "branch", "bank")
TITLE = "银税互动宣传名单"
CONSENT_NOTE = (
    "本名单仅供税务机关内部开展银税互动宣传辅导使用，不向银行提供。银行须经纳税人在电子税务局授权同意后，"
    "方可查询其纳税信用信息。"
)
EXPORT_HEADERS = (
    "纳税人识别号",
    "纳税人名称",
    "主管税务机关",
    "信用级别",
    "评价年度",
    "专精特新",
    "创新型中小企业",
    "企业规模",
    "最近告知日期",
    "最近告知结果",
    "已获贷款笔数",
    "已获贷款金额（元）",
    "联系手机",
)
OUTCOMES = dict(BankTaxOutreach.Outcome.choices)
SMALL = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}
DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", **SMALL})


class OutreachForm(forms.Form):
    told_on = forms.DateField(label="告知日期", widget=DATE)
    channel = forms.ChoiceField(
        label="方式", choices=BankTaxOutreach.Channel.choices, widget=forms.Select(attrs=SELECT)
    )
    outcome = forms.ChoiceField(
        label="结果", choices=BankTaxOutreach.Outcome.choices, widget=forms.Select(attrs=SELECT)
    )
    note = forms.CharField(label="说明", max_length=300, required=False, widget=forms.TextInput(attrs=SMALL))


class LoanForm(forms.Form):
    bank = forms.CharField(label="贷款银行", max_length=60, widget=forms.TextInput(attrs=SMALL))
    product = forms.CharField(label="贷款产品", max_length=60, required=False, widget=forms.TextInput(attrs=SMALL))
    amount = forms.DecimalField(
        label="金额（元）", max_digits=16, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01", **SMALL})
    )
    granted_on = forms.DateField(label="放款日期", widget=DATE)
    term_months = forms.IntegerField(
        label="期限（月）", min_value=1, max_value=360, widget=forms.NumberInput(attrs=SMALL)
    )
    note = forms.CharField(label="说明", max_length=300, required=False, widget=forms.TextInput(attrs=SMALL))


def _filters(request, keys) -> dict[str, str]:
    return {key: request.GET.get(key, "") for key in keys}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def promotion_list(request):
    """银税互动宣传名单: A/B/M taxpayers, 专精特新 and innovative SMEs first, with their last outreach and loans."""
    today = timezone.localdate()
    listing = paginate(request, selectors.promotion_list(user=request.user, on=today, filters=request.GET))
    context = {
        "title": TITLE,
        "note": CONSENT_NOTE,
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "filters": _filters(request, FILTER_KEYS),
        "levels": selectors.PROMOTED_LEVELS,
        "flags": selectors.FLAGS,
        "told": selectors.TOLD,
        "outcomes": OUTCOMES,
        "branches": selectors.branches_for_user(user=request.user),
        "can_export": request.user.has_perm(EXPORT),
        "can_view_loans": request.user.has_perm(VIEW_LOANS),
    }
    return render(request, "credit/banktax/promotion_list.html", context)


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def promotion_export(request):
    """The working list as xlsx for the office's own use (identifiers and phones masked), audited with its
    filters."""
    taxpayers = selectors.promotion_list(user=request.user, on=timezone.localdate(), filters=request.GET)
    rows = (
        (
            mask_identifier(t.identifier),
            t.name,
            t.branch.name,
            t.rating_level,
            t.rating_year,
            "是" if t.is_specialized_sme else "",
            "是" if t.is_innovative_sme else "",
            t.get_size_display(),
            t.last_told_on,
            OUTCOMES.get(t.last_outcome, ""),
            t.loan_count or 0,
            t.loan_total,
            mask_mobile(t.legal_rep_mobile or t.finance_contact_mobile),
        )
        for t in taxpayers.iterator(chunk_size=1000)
    )
    return audited_xlsx_export(
        request, title=TITLE, object_type="credit.banktaxoutreach", headers=EXPORT_HEADERS, rows=rows
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def taxpayer_banktax(request, pk: int):
    """One taxpayer's outreach and loans; 404 outside the user's branches."""
    today = timezone.localdate()
    data = selectors.taxpayer_banktax_for_user(user=request.user, pk=pk, on=today)
    can_tell = request.user.has_perm(TELL) and data.eligible
    context = {
        "data": data,
        "taxpayer": data.taxpayer,
        "note": CONSENT_NOTE,
        "outreach_form": OutreachForm(initial={"told_on": today}) if can_tell else None,
        "loan_form": LoanForm() if request.user.has_perm(ADD_LOAN) else None,
    }
    return render(request, "credit/banktax/taxpayer.html", context)


def _record(request, pk: int, form_class, service, done: str):
    taxpayer = get_for_user_or_404(Taxpayer.objects.all(), user=request.user, pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(f"{form[name].label}：{errors[0]}" for name, errors in form.errors.items()))
    else:
        try:
            service(actor=request.user, taxpayer=taxpayer, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
    return redirect("credit:banktax_taxpayer", pk=taxpayer.pk)


@login_required
@permission_required(TELL, raise_exception=True)
@require_POST
def outreach_add(request, pk: int):
    return _record(request, pk, OutreachForm, services.banktax_outreach_record, "已登记银税互动宣传记录。")


@login_required
@permission_required(ADD_LOAN, raise_exception=True)
@require_POST
def loan_add(request, pk: int):
    return _record(request, pk, LoanForm, services.banktax_loan_record, "已登记贷款。")


@login_required
@permission_required(VIEW_LOANS, raise_exception=True)
@require_GET
def loan_list(request):
    """银税互动贷款: the loans recorded, with their count, taxpayers and total under the filters."""
    loans = selectors.loans_for_user(user=request.user, filters=request.GET)
    listing = paginate(request, loans)
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "filters": _filters(request, LOAN_FILTER_KEYS),
        "totals": selectors.loan_totals(loans),
        "branches": selectors.branches_for_user(user=request.user),
        "note": CONSENT_NOTE,
    }
    return render(request, "credit/banktax/loan_list.html", context)
