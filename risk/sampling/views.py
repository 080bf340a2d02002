"""The post-refund review's pages (事后复核): the samples by month, one month's sample with each refund drawn, its
reasons and the recorded seed (and its xlsx export, audited), and the sample's parameters. Thin: a selector to
read, a service to write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.listing import paginate
from core.masking import mask_identifier
from core.periods import Period, format_period_cn

from . import selectors, services
from .forms import SampleDrawForm, SampleParameterForm

VIEW = "risk.view_monthlysample"
DRAW = "risk.add_monthlysample"
EXPORT = "risk.export_monthlysample"
VIEW_PARAMETERS = "risk.view_sampleparameterversion"
EDIT_PARAMETERS = "risk.add_sampleparameterversion"
EXPORT_HEADERS = (
    "序号", "纳税人识别号", "纳税人名称", "主管税务机关", "行业代码", "当月退税额（元）", "退库日期", "抽中原因",
)  # fmt: skip


def _list_page(request, form, *, status: int = 200):
    last_month = Period.of(timezone.localdate()).minus(1)
    context = {
        "samples": selectors.sample_list(),
        "form": form if request.user.has_perm(DRAW) else None,
        "last_month": last_month,
    }
    return render(request, "risk/sampling/sample_list.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def sample_list(request):
    """事后复核样本: each month's sample (population, drawn, seed); the risk officer draws a month not yet drawn."""
    last_month = Period.of(timezone.localdate()).minus(1)
    return _list_page(request, SampleDrawForm(initial={"period": str(last_month)}))


@login_required
@permission_required(DRAW, raise_exception=True)
@require_POST
def sample_draw(request):
    """抽取: draw a month's sample now (the monthly job does it on the 2nd); a month drawn already stays as drawn."""
    form = SampleDrawForm(request.POST)
    if form.is_valid():
        period = form.cleaned_data["period"]
        try:
            sample = services.monthly_sample_draw(actor=request.user, period=period)
        except ApplicationError as exc:
            form.add_error("period", exc.message)
        else:
            messages.success(request, f"{sample}：抽中 {sample.sampled_count} 笔。")
            return redirect("risk:review", str(sample.period))
    return _list_page(request, form, status=400)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def sample_detail(request, period: str):
    """One month's sample: what it was drawn from and with, and each refund drawn with its reasons."""
    sample = selectors.sample_get(period)
    listing = paginate(request, selectors.sample_rows_for_user(sample, user=request.user))
    for row in listing.page_obj.object_list:
        row.reason_labels = selectors.reason_labels(row.reasons)
    context = {
        "sample": sample,
        "parameters": selectors.parameters_text(sample.parameters_used),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "can_export": request.user.has_perm(EXPORT),
    }
    return render(request, "risk/sampling/sample_detail.html", context)


def _export_rows(rows):
    for row in rows.iterator(chunk_size=2000):
        yield (
            row.position,
            mask_identifier(row.identifier),
            row.name,
            row.branch.name,
            row.industry_code,
            row.amount,
            row.paid_on,
            "、".join(selectors.reason_labels(row.reasons)),
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def sample_export(request, period: str):
    """The month's sample as the page shows it (the rows the user may see), identifiers masked; audited."""
    sample = selectors.sample_get(period)
    rows = selectors.sample_rows_for_user(sample, user=request.user)
    title = f"{format_period_cn(sample.period)}事后复核样本"
    return audited_xlsx_export(
        request, title=title, object_type="risk.monthlysample", headers=EXPORT_HEADERS, rows=_export_rows(rows)
    )


@login_required
@permission_required(VIEW_PARAMETERS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def sample_parameters(request):
    """抽样参数: the values in force today and every version; the risk officer records a new one."""
    today = timezone.localdate()
    can_edit = request.user.has_perm(EDIT_PARAMETERS)
    form = SampleParameterForm(request.POST or None, initial={"effective_from": today})
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.sample_parameter_change(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "抽样参数已修改，原参数保留在修改记录中。")
                return redirect("risk:review_parameters")
        status = 400
    context = {
        "rows": selectors.sample_parameter_rows(today),
        "history": selectors.sample_parameter_history(),
        "form": form if can_edit else None,
    }
    return render(request, "risk/sampling/parameters.html", context, status=status)
