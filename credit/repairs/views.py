"""信用修复、复核、复评: the case list, a case with the actions its state allows, a new case from a taxpayer's
credit page, and the decision."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from core.listing import paginate

from ..models import CreditCase
from . import selectors, services
from .figures import NotEligible, case_figures
from .forms import AnswerForm, CaseForm, DecisionForm, RaiseForm, WithdrawForm

VIEW_CASES = "credit.view_creditcase"
ADD_CASE = "credit.add_creditcase"
HANDLE_CASE = "credit.handle_creditcase"
State = CreditCase.State
STEP_FORMS = {"raise": RaiseForm, "answer": AnswerForm, "withdraw": WithdrawForm}
# What each state allows (the services check it again under the row lock).
ACTIONS = {
    State.RECEIVED: ("review", "withdraw"),
    State.REVIEWING: ("raise", "decide", "withdraw"),
    State.RAISED: ("answer", "withdraw"),
    State.ANSWERED: ("raise", "decide", "withdraw"),
}


@login_required
@permission_required(VIEW_CASES, raise_exception=True)
@require_GET
def case_list(request):
    """修复、复核、复评申请 of the user's taxpayers, filtered by state, kind and overdue in the URL."""
    today = timezone.localdate()
    listing = paginate(request, selectors.cases_for_user(user=request.user, filters=request.GET, today=today))
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "today": today,
        "states": State.choices,
        "kinds": CreditCase.Kind.choices,
        "state": request.GET.get("state", ""),
        "kind": request.GET.get("kind", ""),
        "overdue": request.GET.get("overdue") == "1",
    }
    return render(request, "credit/repairs/case_list.html", context)


@login_required
@permission_required(VIEW_CASES, raise_exception=True)
@require_GET
def case_detail(request, pk: int):
    case = selectors.case_for_user(user=request.user, pk=pk)
    can_act = request.user.has_perm(HANDLE_CASE)
    actions = ACTIONS.get(case.state, ()) if can_act else ()
    context = {
        "case": case,
        "review_window": selectors.review_window_of(case.received_on, case.year)
        if case.kind == CreditCase.Kind.REVIEW
        else None,
        "items": selectors.case_items(case),
        "transitions": selectors.case_transitions(case),
        "overdue": case.is_overdue(timezone.localdate()),
        "actions": actions,
        "step_forms": {name: STEP_FORMS[name]() for name in actions if name in STEP_FORMS},
    }
    return render(request, "credit/repairs/case_detail.html", context)


def _preview(form, taxpayer, year):
    """The rules' figures for what the form names, or the reasons it cannot be granted."""
    try:
        figures = case_figures(
            taxpayer=taxpayer,
            kind=form.cleaned_data["kind"],
            year=year,
            corrections=form.corrections(),
            on=timezone.localdate(),
            direct_d=form.direct_d(),
        )
    except NotEligible as exc:
        return None, exc.reasons
    return figures, []


@login_required
@permission_required(ADD_CASE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def case_new(request, pk: int):
    """登记申请: the year (``?year=``; ``?event=`` ticks one behaviour), the behaviours named and their correction
    dates; 试算 shows the rules' figures, 受理 registers the case."""
    taxpayer = selectors.taxpayer_for_case(user=request.user, pk=pk)
    today = timezone.localdate()
    years = selectors.case_years(taxpayer, today)
    year_text = request.POST.get("year") or request.GET.get("year") or ""
    year = int(year_text) if year_text.isdigit() and int(year_text) in years else (years[0] if years else None)
    events = selectors.events_of_year(taxpayer, year) if year else []
    initial = {"kind": request.GET.get("kind", "repair")}
    if request.GET.get("event", "").isdigit():  # 申请修复 from a behaviour on the credit page: ticked already
        initial["events"] = [request.GET["event"]]
    form = CaseForm(request.POST or None, events=events, initial=initial)
    figures, reasons, status = None, [], 200
    if request.method == "POST":
        if year and form.is_valid():
            if request.POST.get("submit") != "preview":
                try:
                    case = services.credit_case_receive(
                        actor=request.user,
                        taxpayer=taxpayer,
                        kind=form.cleaned_data["kind"],
                        year=year,
                        corrections=form.corrections(),
                        contact_name=form.cleaned_data["contact_name"],
                        contact_phone=form.cleaned_data["contact_phone"],
                        statement=form.cleaned_data["statement"],
                        commitment=form.cleaned_data["commitment"],
                        direct_d=form.direct_d(),
                    )
                except services.CaseRefused as exc:
                    reasons = exc.reasons
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, f"已受理，办结期限 {case.due_on:%Y-%m-%d}。")
                    return redirect("credit:case", case.pk)
            else:
                figures, reasons = _preview(form, taxpayer, year)
        status = 200 if figures else 400
    context = {
        "taxpayer": taxpayer,
        "years": years,
        "year": year,
        "form": form,
        "figures": figures,
        "reasons": reasons,
        "direct_d": bool(year) and selectors.is_direct_d(taxpayer, year),
        "review_window": selectors.review_window_of(today, year),
        "direct_d_label": CreditCase.DirectDCause(form.direct_d().cause).label if figures and figures.direct_d else "",
    }
    return render(request, "credit/repairs/case_form.html", context, status=status)


@login_required
@permission_required(HANDLE_CASE, raise_exception=True)
@require_POST
def case_act(request, pk: int, action: str):
    """One step of a case: 开始审核, 提请上级, 登记上级答复, 撤回."""
    case = selectors.case_for_user(user=request.user, pk=pk)
    form = STEP_FORMS[action](request.POST) if action in STEP_FORMS else None
    if action not in ("review", *STEP_FORMS) or (form is not None and not form.is_valid()):
        messages.error(request, "请填写完整后再提交。")
        return redirect("credit:case", case.pk)
    data = form.cleaned_data if form is not None else {}
    steps = {
        "review": lambda: services.credit_case_review(actor=request.user, case_id=case.pk),
        "raise": lambda: services.credit_case_raise(actor=request.user, case_id=case.pk, question=data["question"]),
        "answer": lambda: services.credit_case_answer(actor=request.user, case_id=case.pk, answer=data["answer"]),
        "withdraw": lambda: services.credit_case_withdraw(actor=request.user, case_id=case.pk, reason=data["reason"]),
    }
    try:
        steps[action]()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{services.ACTION_LABELS[action]}。")
    return redirect("credit:case", case.pk)


@login_required
@permission_required(HANDLE_CASE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def case_decide(request, pk: int):
    """决定: the behaviours granted (all: 准予; some: 部分准予; none: 不予, with the reason)."""
    case = selectors.case_for_user(user=request.user, pk=pk)
    items = selectors.case_items(case)
    form = DecisionForm(request.POST or None, items=items)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.credit_case_decide(
                    actor=request.user,
                    case_id=case.pk,
                    granted_event_ids=form.cleaned_data["granted"],
                    reason=form.cleaned_data["reason"],
                    direct_d_granted=form.cleaned_data["direct_d_granted"],
                )
            except services.CaseRefused as exc:
                form.add_error(None, "；".join(exc.reasons))
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "已作出决定。")
                return redirect("credit:case", case.pk)
        status = 400
    context = {"case": case, "items": items, "form": form}
    return render(request, "credit/repairs/case_decide.html", context, status=status)
