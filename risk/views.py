"""The indicator library's pages (风险指标库): each indicator's definition, parameters in force and their history,
its hit rate by month;
the parameter edit and the grade rules, for risk officers. Thin: a selector to read, a service to write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import ApplicationError

from . import selectors, services
from .application_checks import GATE_CHECKS
from .forms import GradeRuleForm, ParameterChangeForm
from .indicators import INDICATORS, Family
from .models import RiskGrade

VIEW = "risk.view_indicatorparameterversion"
EDIT = "risk.add_indicatorparameterversion"
VIEW_RULES = "risk.view_graderule"
EDIT_RULES = "risk.add_graderule"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def indicator_list(request):
    """风险指标库: the indicators by family, each with its severity and the parameters in force today; then the
    checks of the applications' gate."""
    rows = selectors.indicator_library(timezone.localdate())
    gate = [row for row in rows if row.indicator.code in GATE_CHECKS]
    rows = [row for row in rows if row.indicator.code not in GATE_CHECKS]
    families = [(label, [row for row in rows if row.indicator.family == value]) for value, label in Family.choices]
    return render(request, "risk/indicator_list.html", {"families": families, "count": len(rows), "gate": gate})


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def indicator_detail(request, code: str):
    """One indicator: definition, parameters in force, every version recorded; risk officers add a version."""
    today = timezone.localdate()
    row = selectors.indicator_row(code, today)
    can_edit = request.user.has_perm(EDIT)
    form = ParameterChangeForm(request.POST or None, indicator=row.indicator, initial={"effective_from": today})
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.indicator_parameter_change(actor=request.user, code=row.indicator.code, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "参数已修改，原参数保留在修改记录中。")
                return redirect("risk:indicator", row.indicator.code)
        status = 400
    labels = {p.name: p for p in row.indicator.parameters}
    context = {
        "row": row,
        "form": form if can_edit else None,
        "labels": labels,
        "today": today,
        "hit_rates": selectors.indicator_hit_rate_by_month(row.indicator.code) if code in INDICATORS else None,
    }
    return render(request, "risk/indicator_detail.html", context, status=status)


@login_required
@permission_required(VIEW_RULES, raise_exception=True)
@require_http_methods(["GET", "POST"])
def grade_rules(request):
    """风险等级规则: the rules in force today and every version; risk officers record a new one."""
    today = timezone.localdate()
    can_edit = request.user.has_perm(EDIT_RULES)
    form = GradeRuleForm(request.POST or None, initial={"effective_from": today})
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.grade_rule_change(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "风险等级规则已修改，原规则保留在修改记录中。")
                return redirect("risk:grade_rules")
        status = 400
    in_force = selectors.grade_rules_in_force(today)
    context = {
        "in_force": [(RiskGrade(grade).label, in_force[grade]) for grade in (RiskGrade.HIGH, RiskGrade.MEDIUM)],
        "history": selectors.grade_rule_history(),
        "form": form if can_edit else None,
    }
    return render(request, "risk/grade_rules.html", context, status=status)
