"""信用数据: the credit officer's imports (ratings, dishonesty events, 专精特新 flags) and the ratings and events
within the user's branches."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import ApplicationError
from core.listing import paginate
from core.spreadsheets import FileFormatError, file_format
from core.xlsx import file_download
from taxpayers.flags import FLAGS_SPEC
from taxpayers.models import CreditLevel

from . import selectors, services
from .imports import EVENT_SPEC, RATING_SPEC, build_template
from .imports.readers import EVENT_HINTS, FLAG_HINTS, RATING_HINTS
from .models import CreditImport
from .outlook import taxpayer_years
from .repairs.selectors import cases_of_taxpayer, open_cases_by_event, review_window_of
from .repairs.views import ADD_CASE, VIEW_CASES
from .warnings.views import taxpayer_block

VIEW_IMPORTS = "credit.view_creditimport"
ADD_IMPORT = "credit.add_creditimport"
VIEW_RATINGS = "credit.view_creditrating"
VIEW_EVENTS = "credit.view_dishonestyevent"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

Kind = CreditImport.Kind
SHEETS = {
    Kind.RATINGS: (RATING_SPEC, RATING_HINTS),
    Kind.EVENTS: (EVENT_SPEC, EVENT_HINTS),
    Kind.FLAGS: (FLAGS_SPEC, FLAG_HINTS),
}
RULES = {
    Kind.RATINGS: (
        "每行一户纳税人一个评价年度的一次结果；修复、复核、复评后的结果另起一行，填写其生效日期，原结果保留。",
        "信用级别 A、B、M、C、D；评价得分与级别应一致（A 不低于 90 分，B、M 不低于 70 分，C 为 40 至 70 分）。",
    ),
    Kind.EVENTS: (
        "每行一条失信行为：逾期申报（010101）、逾期报送财务报表（010103）、未按时报送财务会计制度（010501）等。",
        "纠正日期为空表示尚未纠正；首违不罚的记录照常导入，但不计入评价。",
    ),
    Kind.FLAGS: ("专精特新企业、创新型中小企业两列至少有一列；填“是”或“否”，空白为否，整列不存在时该标识保持原值。",),
}


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise Http404("unknown credit import")
    return kind


class CreditImportForm(forms.Form):
    file = forms.FileField(label="文件", help_text="xlsx 或 csv（UTF-8 或 GBK 编码），请使用导入模板。")

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            file_format(uploaded.name)
        except FileFormatError as exc:
            raise forms.ValidationError(exc.message) from exc
        if uploaded.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入。")
        return uploaded


@login_required
@permission_required(VIEW_IMPORTS, raise_exception=True)
@require_GET
def import_list(request):
    """信用数据导入: the three kinds of file, their templates, and the files applied so far."""
    context = {
        "kinds": Kind.choices,
        "imports": selectors.credit_imports_recent(),
        "can_import": request.user.has_perm(ADD_IMPORT),
    }
    return render(request, "credit/import_list.html", context)


@login_required
@permission_required(ADD_IMPORT, raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request, kind: str):
    """One kind's upload: applied completely or not at all; the counts, or every error."""
    kind = _kind(kind)
    errors, warnings, status = [], [], 200
    if request.method == "POST":
        form = CreditImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                record = services.credit_file_import(actor=request.user, kind=kind, file=form.cleaned_data["file"])
            except services.CreditImportRejected as exc:
                errors, warnings, status = exc.errors, exc.warnings, 400
                form.add_error(None, exc.message)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                messages.success(
                    request,
                    f"已导入{record.get_kind_display()}“{record.original_name}”：共 {record.total_rows} 行，"
                    f"新增 {record.created_count}，更新 {record.updated_count}，未变化 {record.unchanged_count}。",
                )
                for warning in record.warnings:
                    messages.info(request, warning)
                return redirect("credit:imports")
        else:
            status = 400
    else:
        form = CreditImportForm()
    context = {
        "form": form,
        "kind": kind,
        "label": Kind(kind).label,
        "rules": RULES[kind],
        "columns": SHEETS[kind][0].columns,
        "errors": errors,
        "warnings": warnings,
    }
    return render(request, "credit/import_upload.html", context, status=status)


@login_required
@permission_required(VIEW_IMPORTS, raise_exception=True)
@require_GET
def import_template(request, kind: str):
    kind = _kind(kind)
    spec, hints = SHEETS[kind]
    label = str(Kind(kind).label)
    return file_download(build_template(spec, hints, title=label), f"{label}导入模板.xlsx")


@login_required
@permission_required(VIEW_RATINGS, raise_exception=True)
@require_GET
def rating_list(request):
    """纳税信用评价结果 of the user's taxpayers, every year and every repair, filtered by year and level."""
    listing = paginate(request, selectors.ratings_for_user(user=request.user, filters=request.GET))
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "levels": CreditLevel.choices,
        "year": request.GET.get("year", ""),
        "level": request.GET.get("level", ""),
    }
    return render(request, "credit/rating_list.html", context)


@login_required
@permission_required(VIEW_EVENTS, raise_exception=True)
@require_GET
def event_list(request):
    """失信行为 of the user's taxpayers, latest first; ``open=1`` keeps those not yet corrected."""
    listing = paginate(request, selectors.events_for_user(user=request.user, filters=request.GET))
    context = {"page_obj": listing.page_obj, "page_query": listing.page_query, "open": request.GET.get("open") == "1"}
    return render(request, "credit/event_list.html", context)


@login_required
@permission_required(VIEW_RATINGS, raise_exception=True)
@require_GET
def taxpayer_credit(request, pk: int):
    """One taxpayer's credit year by year: ratings, behaviours with what correcting or repairing each would
    restore, the prediction, contacts and cases; 404 outside the user's branches."""
    taxpayer, ratings, events = selectors.taxpayer_credit_for_user(user=request.user, pk=pk)
    can_see_events = request.user.has_perm(VIEW_EVENTS)
    today = timezone.localdate()
    sees_cases = request.user.has_perm(VIEW_CASES)
    years = taxpayer_years(
        taxpayer,
        ratings=ratings,
        events=events if can_see_events else [],
        today=today,
        pending=open_cases_by_event(taxpayer) if sees_cases else {},
    )
    context = {
        "taxpayer": taxpayer,
        "years": years,
        "can_see_events": can_see_events,
        **taxpayer_block(request.user, taxpayer),
        "can_open_case": request.user.has_perm(ADD_CASE),
        "cases": cases_of_taxpayer(taxpayer) if sees_cases else None,
        "review_window": review_window_of(today),
        "today": today,
    }
    return render(request, "credit/taxpayer_credit.html", context)
