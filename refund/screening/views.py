"""留抵退税 screening pages: runs (start, progress, totals), a run's results and export, and a taxpayer's
explanation with the what-if panel. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.industry import parse_industry_code
from core.listing import active_filter_count, paginate, sort_columns, style_filter_form
from core.masking import mask_identifier
from core.money import format_percent, format_yuan
from core.periods import Period, format_period_cn

from ..labels import (
    RUN_STATUS_TAGS,
    condition_title,
    describe_decision,
    error_help,
    option_rows,
    regime_title,
    size_title,
)
from ..models import ScreeningRun
from ..rules import CaseError
from ..rules.options import parse_options
from . import selectors
from .explanation import explanation_for_user, what_if_for
from .filters import RESULT_COLUMNS
from .forms import ScreeningRunStartForm, WhatIfForm, parse_period_field
from .services import screening_run_start

VIEW_RUN = "refund.view_screeningrun"
VIEW_RESULT = "refund.view_screeningresult"
RUN_PERMISSION = "refund.run_screening"
EXPORT_PERMISSION = "refund.export_screening"
RUNS_PER_PAGE = 20

EXPORT_HEADERS = (
    "纳税人识别号",
    "纳税人名称",
    "主管税务机关",
    "行业代码",
    "行业门类",
    "企业规模",
    "适用政策",
    "结论",
    "未满足的条件",
    "数据问题",
    "期末留抵税额",
    "比较基数",
    "增量留抵税额",
    "存量留抵税额",
    "进项构成比例",
    "退还比例",
    "可退增量留抵税额",
    "可退存量留抵税额",
    "可退税额合计",
)


def _tagged(run: ScreeningRun) -> ScreeningRun:
    run.tag = RUN_STATUS_TAGS.get(run.status, "tag-waiting")
    return run


# --- runs ----------------------------------------------------------------------------------------------


def _run_list_page(request, *, form: ScreeningRunStartForm | None):
    listing = paginate(request, selectors.screening_runs(sort=request.GET.get("sort")), per_page=RUNS_PER_PAGE)
    runs = [_tagged(run) for run in listing.page_obj]
    figures = selectors.run_figures_for_user(user=request.user, runs=runs)
    for run in runs:
        run.figures = figures[run.pk]
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.RUN_COLUMNS, default=selectors.RUN_SORT),
        "runs": runs,
        "form": form,
        "show_form": form is not None and form.is_bound,
        "branch_scoped": selectors.is_branch_scoped(request.user),
    }
    return render(request, "refund/screening/run_list.html", context)


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
@require_GET
def run_list(request):
    """筛查批次: every run with its status, progress and figures; the start form for those who may run."""
    form = ScreeningRunStartForm() if request.user.has_perm(RUN_PERMISSION) else None
    return _run_list_page(request, form=form)


@login_required
@permission_required(RUN_PERMISSION, raise_exception=True)
@require_POST
def run_start(request):
    """发起筛查: enqueued after commit; while a run of the period is unfinished, that run is opened instead."""
    form = ScreeningRunStartForm(request.POST)
    if not form.is_valid():
        return _run_list_page(request, form=form)
    period = form.cleaned_data["application_period"]
    unfinished = ScreeningRun.objects.filter(
        application_period=period, status__in=[ScreeningRun.Status.PENDING, ScreeningRun.Status.RUNNING]
    ).exists()
    try:
        run = screening_run_start(
            actor=request.user,
            application_period=period,
            application_date=form.cleaned_data["application_date"],
            options=form.options,
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _run_list_page(request, form=form)
    if unfinished:
        messages.info(
            request, f"{run.application_period} 已有一个未完成的筛查（#{run.pk}），已为您打开；完成后可再次发起。"
        )
    else:
        messages.success(request, "已发起筛查，后台正在处理。可以离开本页，稍后在筛查批次中查看结果。")
    return redirect("refund:run_detail", pk=run.pk)


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
@require_GET
def run_detail(request, pk: int):
    """Progress (htmx polls every second until the run ends), then the totals in the user's scope."""
    run = _tagged(selectors.screening_run_get(pk=pk))
    if request.htmx:
        response = render(request, "refund/screening/_run_progress.html", {"run": run})
        if run.is_finished:
            response["HX-Refresh"] = "true"  # reload once to show the totals
        return response
    can_results = request.user.has_perm(VIEW_RESULT)
    totals = None
    if run.status == ScreeningRun.Status.SUCCEEDED and can_results:
        totals = selectors.run_totals_for_user(user=request.user, run=run)
    context = {
        "run": run,
        "totals": totals,
        "can_results": can_results,
        "branch_scoped": selectors.is_branch_scoped(request.user),
        "option_rows": option_rows(_run_options(run)),
    }
    return render(request, "refund/screening/run_detail.html", context)


def _run_options(run: ScreeningRun) -> dict:
    """Every option with the value the run used (defaults filled in)."""
    try:
        return parse_options(run.options or None).as_dict()
    except CaseError:  # stored with options the rules no longer know: show them as stored
        return dict(run.options or {})


# --- results -------------------------------------------------------------------------------------------


def _result_rows(results):
    for result in results:
        result.regime_label = regime_title(result.regime) if result.regime else ""
        result.failed_labels = [condition_title(code) for code in result.failed_conditions]
        result.error_label = error_help(result.error_code).title if result.error_code else ""
    return results


@login_required
@permission_required(VIEW_RESULT, raise_exception=True)
@require_GET
def run_results(request, pk: int):
    """筛查结果: the run's rows in the user's scope, filtered in the URL, sorted, paginated with the total."""
    run = _tagged(selectors.screening_run_get(pk=pk))
    filterset = selectors.result_filterset(user=request.user, run=run, filters=request.GET)
    listing = paginate(request, filterset.qs)
    _result_rows(listing.page_obj.object_list)
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "run": run,
        "filterset": filterset,
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, RESULT_COLUMNS, default="-refundable_total"),
        "active_filters": active_filter_count(request),
        "export_query": export_query.urlencode(),
        "can_export": request.user.has_perm(EXPORT_PERMISSION),
    }
    return render(request, "refund/screening/run_results.html", context)


def _export_row(result) -> tuple:
    taxpayer = result.taxpayer
    industry = parse_industry_code(taxpayer.industry_code)
    outcome = "无法判断" if result.error_code else ("符合" if result.eligible else "不符合")
    return (
        mask_identifier(taxpayer.identifier),
        taxpayer.name,
        taxpayer.branch.name,
        taxpayer.industry_code,
        f"{industry.section} {industry.section_name}" if industry else "",
        size_title(result.size),
        regime_title(result.regime) if result.regime else "",
        outcome,
        "；".join(condition_title(code) for code in result.failed_conditions),
        error_help(result.error_code).title if result.error_code else "",
        result.current_credit,
        result.base_credit,
        result.incremental_credit,
        result.stock_credit,
        "" if result.input_ratio is None else str(result.input_ratio),
        result.refund_rate,
        result.refundable_incremental,
        result.refundable_stock,
        result.refundable_total,
    )


@login_required
@permission_required(VIEW_RESULT, raise_exception=True)
@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_GET
def run_export(request, pk: int):
    """Exactly what the results page's filters show (every page), identifiers masked, as xlsx; audited."""
    run = selectors.screening_run_get(pk=pk)
    filterset = selectors.result_filterset(user=request.user, run=run, filters=request.GET)
    rows = (_export_row(result) for result in filterset.qs.iterator(chunk_size=2000))
    return audited_xlsx_export(
        request,
        title=f"留抵退税筛查结果-{run.application_period}-批次{run.pk}",
        object_type="refund.screeningresult",
        headers=EXPORT_HEADERS,
        rows=rows,
    )


# --- one taxpayer: explanation and what-if -------------------------------------------------------------


class _BaseParams(forms.Form):
    """Which decision is explained: a run's (``run``), or a period and date (default: this month)."""

    run = forms.IntegerField(required=False, min_value=1)
    period = forms.CharField(required=False, max_length=7)
    date = forms.DateField(required=False, error_messages={"invalid": "请按 YYYY-MM-DD 填写日期。"})

    def clean_period(self):
        text = self.cleaned_data["period"].strip()
        return parse_period_field(text) if text else None


def _explanation(request, taxpayer_id: int, *, run_pk: int | None = None):
    """The explanation and any notices about the parameters that could not be used."""
    params = _BaseParams(request.GET)
    params.is_valid()
    problems = [f"{error}（已改用默认值）" for errors in params.errors.values() for error in errors]
    run_pk = run_pk or params.cleaned_data.get("run")
    run = selectors.screening_run_get(pk=run_pk) if run_pk else None
    period, day = params.cleaned_data.get("period"), params.cleaned_data.get("date")
    if period and day and Period.of(day) != period:
        problems.append(f"假定申请日期 {day.isoformat()} 不在所属期 {format_period_cn(period)} 内（已改用默认日期）。")
        day = None
    explanation = explanation_for_user(
        user=request.user, taxpayer_id=taxpayer_id, run=run, application_period=period, application_date=day
    )
    return explanation, problems


def _explanation_context(request, explanation, problems, *, what_if_form=None, what_if=None) -> dict:
    base = {"period": explanation.application_period, "date": explanation.application_date.isoformat()}
    if explanation.run is not None:
        base = {"run": explanation.run.pk}
    return {
        "explanation": explanation,
        "taxpayer": explanation.taxpayer,
        "run": explanation.run,
        "decision": describe_decision(explanation.decision),
        "stored": explanation.stored,
        "differences": explanation.differences,
        "problems": problems,
        "base_params": base,
        "base_query": urlencode(base),
        "what_if_form": what_if_form or WhatIfForm(),
        "what_if": what_if,
        "what_if_decision": describe_decision(what_if.decision) if what_if else None,
        "comparison": _comparison(explanation.decision, what_if.decision) if what_if else [],
    }


COMPARED_MONEY = (
    ("current_credit", "期末留抵税额"),
    ("incremental_credit", "增量留抵税额"),
    ("stock_credit", "存量留抵税额"),
    ("refundable_incremental", "可退增量"),
    ("refundable_stock", "可退存量"),
    ("refundable_total", "可退税额合计"),
)


def _comparison(actual: dict, hypothetical: dict) -> list[dict]:
    """The what-if table: each figure of the actual and the hypothetical decision, flagged where they differ."""

    def shown(decision: dict) -> dict[str, str]:
        described = describe_decision(decision)
        if described["outcome"] == "error":
            return {"outcome": f"无法判断（{described['error_title']}）"}
        values = {
            "outcome": described["outcome_label"],
            "regime": described["regime_title"],
            "failed": "；".join(c["title"] for c in described["failed"]) or "无",
            "input_ratio": format_percent(decision["input_ratio"]) or "—",
            "refund_rate": format_percent(decision["refund_rate"]) or "—",
        }
        values.update({key: format_yuan(decision[key]) or "—" for key, _ in COMPARED_MONEY})
        return values

    labels = [
        ("outcome", "结论"),
        ("regime", "适用政策"),
        ("failed", "未满足的条件"),
        *COMPARED_MONEY[:3],
        ("input_ratio", "进项构成比例"),
        ("refund_rate", "退还比例"),
        *COMPARED_MONEY[3:],
    ]
    left, right = shown(actual), shown(hypothetical)
    rows = []
    for key, label in labels:
        a, b = left.get(key, "—"), right.get(key, "—")
        rows.append({"key": key, "label": label, "actual": a, "hypothetical": b, "changed": a != b})
    return rows


@login_required
@permission_required(VIEW_RESULT, raise_exception=True)
@require_GET
def taxpayer_explain(request, taxpayer_id: int):
    """测算说明 of a taxpayer from its page: this month (or ``?period=``), the latest run's settings if any."""
    explanation, problems = _explanation(request, taxpayer_id)
    return render(request, "refund/screening/explanation.html", _explanation_context(request, explanation, problems))


@login_required
@permission_required(VIEW_RESULT, raise_exception=True)
@require_GET
def run_explain(request, pk: int, taxpayer_id: int):
    """测算说明 of a result row: the rules' live decision for the run's period, date and options."""
    explanation, problems = _explanation(request, taxpayer_id, run_pk=pk)
    return render(request, "refund/screening/explanation.html", _explanation_context(request, explanation, problems))


@login_required
@permission_required(VIEW_RESULT, raise_exception=True)
@require_GET
def what_if(request, taxpayer_id: int):
    """假设测算 (htmx partial): the same rules on the same data with the changed assumptions, beside the actual."""
    explanation, problems = _explanation(request, taxpayer_id)
    form = WhatIfForm(request.GET)
    result = None
    if form.is_valid():
        period = form.period(explanation.application_period)
        result = what_if_for(
            explanation,
            credit_level=form.cleaned_data["credit_level"],
            application_period=period,
            application_date=WhatIfForm.date_for(period, explanation.application_date),
            immediate_repaid=form.cleaned_data["immediate_repaid"],
        )
    context = _explanation_context(request, explanation, problems, what_if_form=form, what_if=result)
    template = "refund/screening/_what_if_result.html" if request.htmx else "refund/screening/explanation.html"
    return render(request, template, context)
