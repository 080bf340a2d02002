"""纳税人 pages: the list (filters, sort, export) and the detail page (with the audited contact reveal)."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.exports import audited_xlsx_export
from core.listing import active_filter_count, paginate, sort_columns, style_filter_form
from core.masking import mask_identifier, mask_mobile

from .contact_services import CONTACTS_PERMISSION, taxpayer_contacts_reveal
from .industry import parse_industry_code
from .selectors import (
    compliance_for_taxpayer,
    returns_for_taxpayer,
    taxpayer_filterset,
    taxpayer_get_for_user,
    taxpayers_visible_to,
)

VIEW_PERMISSION = "taxpayers.view_taxpayer"
SORTABLE = {"identifier": "纳税人识别号", "name": "纳税人名称", "branch": "主管税务机关", "credit_level": "信用级别"}
RETURNS_SHOWN = 36  # three years of monthly returns on the detail page; the rest behind "全部"

EXPORT_HEADERS = (
    "纳税人识别号",
    "纳税人名称",
    "主管税务机关",
    "行业代码",
    "行业门类",
    "行业大类",
    "纳税人类型",
    "状态",
    "信用级别",
    "信用评价年度",
    "企业规模",
    "法定代表人",
    "法定代表人手机",
    "财务负责人",
    "财务负责人手机",
    "出口企业",
    "重点税源",
)


def _with_industry(taxpayers):
    """Attach the parsed GB/T 4754 industry to each taxpayer (no query: the classification is a cached file)."""
    for taxpayer in taxpayers:
        taxpayer.industry = parse_industry_code(taxpayer.industry_code)
    return taxpayers


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def taxpayer_list(request):
    filterset = taxpayer_filterset(user=request.user, filters=request.GET)
    listing = paginate(request, filterset.qs)
    _with_industry(listing.page_obj.object_list)
    empty_reason = ""
    if not listing.page_obj.paginator.count:
        # Say why the list is empty and what to do next.
        empty_reason = "filtered" if taxpayers_visible_to(user=request.user).exists() else "no_taxpayers"
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "filterset": filterset,
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, SORTABLE, default="identifier"),
        "active_filters": active_filter_count(request),
        "empty_reason": empty_reason,
        "export_query": export_query.urlencode(),
        "can_import": request.user.has_perm("taxpayers.add_importjob"),
    }
    return render(request, "taxpayers/taxpayer_list.html", context)


def _export_row(taxpayer) -> tuple:
    industry = parse_industry_code(taxpayer.industry_code)
    return (
        mask_identifier(taxpayer.identifier),
        taxpayer.name,
        taxpayer.branch.name,
        taxpayer.industry_code,
        industry.section_name if industry else "",
        industry.division_name if industry else "",
        "一般纳税人" if taxpayer.is_general_taxpayer else "小规模纳税人",
        taxpayer.get_status_display(),
        taxpayer.credit_level,
        taxpayer.credit_year,
        taxpayer.get_size_display(),
        taxpayer.legal_rep_name,
        mask_mobile(taxpayer.legal_rep_mobile),
        taxpayer.finance_contact_name,
        mask_mobile(taxpayer.finance_contact_mobile),
        taxpayer.is_export_enterprise,
        taxpayer.is_key_taxpayer,
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def taxpayer_export(request):
    """Exactly what the list's filters show (every page), masked, as xlsx; the export is audited."""
    filterset = taxpayer_filterset(user=request.user, filters=request.GET)
    rows = (_export_row(t) for t in filterset.qs.iterator(chunk_size=2000))
    return audited_xlsx_export(
        request, title="纳税人列表", object_type="taxpayers.taxpayer", headers=EXPORT_HEADERS, rows=rows
    )


def _detail_context(request, taxpayer, *, contacts=None) -> dict:
    show_all = request.GET.get("returns") == "all"
    returns_qs = returns_for_taxpayer(taxpayer)
    if show_all:
        returns = list(returns_qs)
        returns_total = len(returns)
    else:
        returns = list(returns_qs[: RETURNS_SHOWN + 1])
        returns_total = returns_qs.count() if len(returns) > RETURNS_SHOWN else len(returns)
        returns = returns[:RETURNS_SHOWN]
    return {
        "taxpayer": taxpayer,
        "industry": parse_industry_code(taxpayer.industry_code),
        "contacts": contacts,
        "can_reveal": request.user.has_perm(CONTACTS_PERMISSION),
        "returns": returns,
        "returns_total": returns_total,
        "returns_all": show_all,
        "returns_more": returns_total > len(returns),
        "compliance_records": list(compliance_for_taxpayer(taxpayer)),
    }


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def taxpayer_detail(request, pk: int):
    taxpayer = taxpayer_get_for_user(user=request.user, pk=pk)
    return render(request, "taxpayers/taxpayer_detail.html", _detail_context(request, taxpayer))


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_POST
def taxpayer_reveal_contacts(request, pk: int):
    """显示完整信息: the full identifier and phone numbers, for roles allowed to see them; audited."""
    if not request.user.has_perm(CONTACTS_PERMISSION):
        raise PermissionDenied("no permission to view taxpayer contacts")
    taxpayer = taxpayer_get_for_user(user=request.user, pk=pk)
    contacts = taxpayer_contacts_reveal(actor=request.user, taxpayer=taxpayer)
    if request.htmx:
        return render(
            request, "taxpayers/_contacts.html", {"taxpayer": taxpayer, "contacts": contacts, "oob_identifier": True}
        )
    return render(request, "taxpayers/taxpayer_detail.html", _detail_context(request, taxpayer, contacts=contacts))
