"""留抵退税申请 pages: the queue (申请队列 / 我的待办) and its export, an application's page (decision and amounts,
the rules' explanation, risk hits, history, coaching, actions), manual entry and the xlsx import (the queue's batch
bar: ``batch_views``). Thin: parse, call a selector or one of ``refund.applications.services``, render.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.listing import (
    active_filter_count,
    add_service_error,
    paginate,
    sort_columns,
    style_filter_form,
)
from core.masking import mask_identifier
from core.periods import format_period_cn
from taxpayers.contact_services import CONTACTS_PERMISSION
from taxpayers.selectors import taxpayer_get_for_user

from ..labels import APPLICATION_STATE_TAGS, RISK_TAGS, describe_decision, regime_title
from ..models import OPEN_APPLICATION_STATES, RefundApplication
from ..screening.explanation import explanation_for_user
from . import selectors, services, workflow
from .claims import claim_difference
from .evidence import evidence_lines
from .forms import (
    ApplicationEntryForm,
    ApplicationImportForm,
    AssignForm,
    CoachingRecordForm,
    ConfirmForm,
    NoteForm,
    ReasonForm,
    ReturnForm,
    SignOffForm,
)
from .imports import ApplicationImportRejected, applications_import_xlsx
from .risk import risk_panel, risk_title
from .sign_off import application_sign_off

State = RefundApplication.State

VIEW = "refund.view_refundapplication"
REVIEW = "refund.review_refundapplication"
APPROVE = "refund.approve_refundapplication"
SIGN_OFF = "refund.sign_off_refundapplication"
ADD = "refund.add_refundapplication"
EXPORT = "refund.export_refundapplication"
COACH = "refund.add_coachingrecord"
QUEUE_PAGE_SIZE = 50


EXPORT_HEADERS = (
    "申请文书号", "纳税人识别号", "纳税人名称", "主管税务机关", "申请退税所属期", "退税类型", "适用政策", "来源",
    "受理日期", "办结期限", "已用工作日", "是否超期", "申请退税额（元）", "规则计算可退税额（元）", "其中：增量（元）",
    "其中：存量（元）", "确认退税额（元）", "状态", "风险扫描", "经办人", "审批时间", "退库日期", "实际退税额（元）",
    "回退或不予退税原因",
)  # fmt: skip


# --- the SLA clock (10 working days from receipt) -------------------------------------------------------------


def decorate(applications, today: dt.date):
    """Display attributes of a row (no queries: taxpayer, branch and assignee are joined)."""
    for application in applications:
        application.url = reverse("refund:application_detail", args=[application.pk])
        application.state_tag = APPLICATION_STATE_TAGS.get(application.state, "tag-waiting")
        application.risk_tag = RISK_TAGS.get(application.risk_status, "tag-waiting")
        application.regime_label = regime_title(application.regime) if application.regime else ""
        application.working_days, application.is_overdue = selectors.sla_clock(application, today)
    return applications


# --- the queue ------------------------------------------------------------------------------------------------


def _checkbox_unstyled(form, name: str):
    """``style_filter_form`` gives every widget the text-input classes; a checkbox keeps Bootstrap's own."""
    form.fields[name].widget.attrs["class"] = "form-check-input"
    return form


def _queue_context(request, *, defaults=None, title: str, url_name: str) -> dict:
    today = timezone.localdate()
    filterset = selectors.application_queue_filterset(
        user=request.user, filters=request.GET, defaults=defaults, today=today
    )
    listing = paginate(request, filterset.qs.values_list("pk", flat=True), per_page=QUEUE_PAGE_SIZE)
    listing.page_obj.object_list = selectors.applications_in_order(list(listing.page_obj.object_list))
    decorate(listing.page_obj.object_list, today)
    export_query = request.GET.copy()
    export_query.pop("page", None)
    for name, value in (defaults or {}).items():
        export_query.setdefault(name, value)
    can_assign = request.user.has_perm(REVIEW)
    return {
        "title": title,
        "queue_url": reverse(url_name),
        "filterset": filterset,
        "form": _checkbox_unstyled(style_filter_form(filterset.form), "overdue"),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.QUEUE_COLUMNS, default=selectors.QUEUE_DEFAULT_SORT),
        "active_filters": active_filter_count(request),
        "export_query": export_query.urlencode(),
        "can_export": request.user.has_perm(EXPORT),
        "can_approve": request.user.has_perm(APPROVE),
        "can_assign": can_assign,
        "can_add": request.user.has_perm(ADD),
        "assign_form": AssignForm(officers=selectors.assignable_officers(user=request.user)) if can_assign else None,
        "back_url": request.get_full_path(),
        "today": today,
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def application_queue(request):
    """申请队列: every application in the user's scope, open ones oldest first; filters, sort and page in the URL."""
    context = _queue_context(request, title="申请队列", url_name="refund:application_queue")
    return render(request, "refund/applications/queue.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def my_applications(request):
    """我的待办: the queue of the applications assigned to me (the other filters as in the queue)."""
    context = _queue_context(
        request, defaults={"assignee": selectors.ASSIGNEE_ME}, title="我的待办", url_name="refund:my_applications"
    )
    return render(request, "refund/applications/queue.html", context)


def _export_rows(applications, today: dt.date):
    for application in applications.iterator(chunk_size=2000):
        decorate([application], today)
        taxpayer = application.taxpayer
        yield (
            application.document_number or "",
            mask_identifier(taxpayer.identifier),
            taxpayer.name,
            application.branch.name,
            application.application_period,
            application.get_kind_display(),
            application.regime_label,
            application.get_source_display(),
            application.received_on,
            application.due_on,
            application.working_days,
            application.is_overdue,
            application.claimed_amount,
            application.computed_amount,
            application.computed_incremental,
            application.computed_stock,
            application.confirmed_amount,
            application.get_state_display(),
            application.get_risk_status_display(),
            str(application.assigned_to) if application.assigned_to_id else "",
            application.approved_at,
            application.paid_on,
            application.paid_amount,
            application.decision_reason,
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def application_queue_export(request):
    """Exactly what the queue's filters show (every page), identifiers masked, as xlsx; audited."""
    today = timezone.localdate()
    filterset = selectors.application_queue_filterset(user=request.user, filters=request.GET, today=today)
    return audited_xlsx_export(
        request,
        title="留抵退税申请",
        object_type="refund.refundapplication",
        headers=EXPORT_HEADERS,
        rows=_export_rows(filterset.qs, today),
    )


# --- batch actions: 批量审批 and 分派 -------------------------------------------------------------------------------


# --- one application ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """An action button of the application page: who may, when (the services' states), what it asks for."""

    name: str  # in the URL
    label: str
    permission: str
    form_class: type
    workflow: str | None  # the services' action name (open_actions), None when not a state move
    button: str = "btn-outline-primary"
    confirm: str = ""  # the browser's confirmation question, for what cannot be undone


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("investigate", workflow.ACTION_LABELS["investigate"], REVIEW, NoteForm, "investigate"),
        Action("confirm", "一键确认并提交审核", REVIEW, ConfirmForm, "submit_for_review", "btn-primary"),
        Action(
            "approve",
            workflow.ACTION_LABELS["approve"],
            APPROVE,
            forms.Form,
            "approve",
            "btn-success",
            "审批通过后将进入退库流程，不能撤回。审批前会重新进行风险复核。确认审批通过？",
        ),
        Action("return", workflow.ACTION_LABELS["return"], REVIEW, ReturnForm, "return", "btn-outline-danger"),
        Action(
            "reject",
            workflow.ACTION_LABELS["reject"],
            APPROVE,
            ReasonForm,
            "reject",
            "btn-outline-danger",
            "不予退税是最终决定，不能撤回。确认不予退税？",
        ),
        Action("recompute", "重新计算", REVIEW, NoteForm, None, "btn-outline-secondary"),
        Action("sign_off", "局领导签批", SIGN_OFF, SignOffForm, None, "btn-primary"),
    )
}


def _run_action(request, name: str, application: RefundApplication, form) -> str:
    """Call the action's service; returns the success message (raises ``ApplicationError`` when refused)."""
    data = form.cleaned_data
    actor = request.user
    if name == "investigate":
        services.application_investigate(actor=actor, application=application, note=data["note"])
        return "已开始调查核实。"
    if name == "confirm":
        if form.is_correction:
            services.application_confirm(
                actor=actor,
                application=application,
                amount=data["amount"],
                incremental=data["incremental"],
                stock=data["stock"],
                reason=data["reason"].strip(),
            )
            return "已按更正后的金额确认并提交审核。"
        services.application_confirm(actor=actor, application=application)
        return "已确认规则计算结果并提交审核。"
    if name == "approve":
        services.application_approve(actor=actor, application=application)
        return "已审批通过。"
    if name == "return":
        services.application_return(
            actor=actor, application=application, reason=data["reason"].strip(), evidence=form.evidence_dict()
        )
        return "已回退，待调查核实。"
    if name == "reject":
        services.application_reject(actor=actor, application=application, reason=data["reason"].strip())
        return "已登记不予退税。"
    if name == "recompute":
        services.application_recompute(actor=actor, application=application)
        return "已按现有数据重新计算。"
    if name == "sign_off":
        application_sign_off(actor=actor, application=application, opinion=data["opinion"])
        return "已签批，审批人可以审批。"
    raise Http404("unknown action")


def _action_form(action: Action, data=None):
    """The action's form, its field ids prefixed by the action (several forms share field names on the page)."""
    return action.form_class(data, auto_id=f"id_{action.name}_%s")


def style_form(form):
    for field in form.fields.values():
        css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
        field.widget.attrs.setdefault("class", css)
    return form


def _why_not(request, action: Action, application: RefundApplication, allowed: set[str]) -> str:
    """The precondition of ``action`` that is missing now (state, permission, separation of duties), or ""."""
    if action.workflow is not None and action.workflow not in allowed:
        return workflow.actions_refused_reason(action.workflow)
    if action.workflow is None and application.state not in OPEN_APPLICATION_STATES:
        return "仅限未办结的申请"
    if not request.user.has_perm(action.permission):
        return "您的岗位无权办理此项"
    if action.name == "approve":
        block = workflow.approval_blocks(actor=request.user, applications=[application]).get(application.pk)
        if block is not None and block.code in ("own_confirmation", "sign_off_required"):
            return block.reason
    return ""


def _action_panels(request, application: RefundApplication, *, bound: dict | None = None, errors=None) -> list[dict]:
    """Each action with its form, or disabled with the precondition that is missing. 局领导签批 shows only on an
    application that waits for it."""
    allowed = set(workflow.open_actions(application))
    waits_for_sign_off = application.state == State.REVIEWING and workflow.needs_sign_off(
        application, workflow.sign_off_threshold_on(timezone.localdate())
    )
    panels = []
    for action in ACTIONS.values():
        if action.name == "sign_off" and not waits_for_sign_off:
            continue
        why = _why_not(request, action, application, allowed)
        form = style_form((bound or {}).get(action.name) or _action_form(action))
        panels.append(
            {
                "action": action,
                "enabled": not why,
                "why_disabled": why,
                "form": form,
                "url": reverse("refund:application_action", args=[application.pk, action.name]),
                "error": (errors or {}).get(action.name, ""),
            }
        )
    return panels


def _explanation(request, application: RefundApplication) -> tuple[dict | None, str]:
    """The rules' decision with its words: the snapshot taken on arrival (or the last recomputation), else the
    live explanation for the application's period and receipt date."""
    snapshot = application.result_snapshot or {}
    if "error" in snapshot or "conditions" in snapshot:
        try:
            return describe_decision(snapshot), "snapshot"
        except (KeyError, TypeError):
            pass
    explanation = explanation_for_user(
        user=request.user,
        taxpayer_id=application.taxpayer_id,
        application_period=application.application_period,
        application_date=application.received_on,
    )
    return describe_decision(explanation.decision), "live"


def _detail(request, pk: int, *, bound=None, errors=None, coaching_form=None, status: int = 200):
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    today = timezone.localdate()
    decorate([application], today)
    application.claim_difference = claim_difference(application.claimed_amount, application.computed_amount)
    decision, decision_source = _explanation(request, application)
    transitions = list(selectors.application_transitions(application))
    risk_hits = list(selectors.application_risk_hits(application))
    for row in (*transitions, *risk_hits):
        row.evidence_lines = evidence_lines(row.evidence)
    for hit in risk_hits:
        hit.label = risk_title(hit.code, hit.title)
    context = {
        "application": application,
        "taxpayer": application.taxpayer,
        "decision": decision,
        "decision_source": decision_source,
        "transitions": transitions,
        "risk_hits": risk_hits,
        "risk_panel": risk_panel(application, user=request.user),
        "coachings": list(selectors.taxpayer_coachings(application)),
        "actions": _action_panels(request, application, bound=bound, errors=errors),
        "can_coach": request.user.has_perm(COACH),
        "coaching_form": style_form(coaching_form or CoachingRecordForm(initial={"coached_on": today})),
        "can_reveal": request.user.has_perm(CONTACTS_PERMISSION),
        "contacts": None,
        "page_errors": [e for e in (errors or {}).values() if e],
    }
    return render(request, "refund/applications/detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def application_detail(request, pk: int):
    """The decision and the amounts first, then why (the rules), the risk hits, history and coaching; actions
    on the right."""
    return _detail(request, pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def application_action(request, pk: int, action: str):
    """One action of the application page. Invalid input or a refusal re-renders the page with the message
    beside the action's form; success redirects back to the page."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("unknown action")
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    if not request.user.has_perm(spec.permission):
        raise PermissionDenied(f"no permission for {action}")
    form = _action_form(spec, request.POST)
    if not form.is_valid():
        return _detail(request, pk, bound={action: form}, status=400)
    try:
        text = _run_action(request, action, application, form)
    except ApplicationError as exc:
        return _detail(request, pk, bound={action: form}, errors={action: exc.message}, status=exc.status_code)
    messages.success(request, text)
    return redirect("refund:application_detail", pk=pk)


@login_required
@permission_required(COACH, raise_exception=True)
@require_POST
def application_coaching_add(request, pk: int):
    """登记一对一辅导 on the application (and so on its taxpayer)."""
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    form = CoachingRecordForm(request.POST)
    if not form.is_valid():
        return _detail(request, pk, coaching_form=form, status=400)
    try:
        services.coaching_record_add(
            actor=request.user,
            taxpayer=application.taxpayer,
            application=application,
            topic=form.cleaned_data["topic"],
            notes=form.cleaned_data["notes"],
            coached_on=form.cleaned_data["coached_on"],
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _detail(request, pk, coaching_form=form, status=exc.status_code)
    messages.success(request, "已登记一对一辅导。")
    return redirect(reverse("refund:application_detail", args=[pk]) + "#coaching")


# --- entry and import -----------------------------------------------------------------------------------------


def _say_received(request, application: RefundApplication) -> None:
    """已登记 — in green only when the claim is what the rules compute and the arrival scan found nothing."""
    text = f"已登记 {application.taxpayer.name} {format_period_cn(application.application_period)}的留抵退税申请"
    difference = claim_difference(application.claimed_amount, application.computed_amount)
    notes = [f"{difference}，确认前请核实"] if difference else []
    if application.state == State.RETURNED:
        notes.append("受理时风险扫描发现疑点，已回退调查核实（见“风险疑点”）")
    if notes:
        messages.warning(request, f"{text}。{'；'.join(notes)}。")
    else:
        messages.success(request, f"{text}。")


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_new(request):
    """登记申请: one application entered by an officer; pre-filled by the rules on arrival (一键确认 later)."""
    if request.method == "POST":
        form = ApplicationEntryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                taxpayer = taxpayer_get_for_user(user=request.user, identifier=data["identifier"])
            except Http404:
                form.add_error("identifier", "未找到该纳税人，或该纳税人不在您的管辖范围内。请核对识别号。")
            else:
                try:
                    application = services.application_receive(
                        actor=request.user,
                        taxpayer=taxpayer,
                        application_period=data["application_period"],
                        kind=data["kind"],
                        claimed_amount=data["claimed_amount"],
                        received_on=data["received_on"],
                        source=RefundApplication.Source.MANUAL,
                        document_number=data["document_number"],
                    )
                except ApplicationError as exc:
                    add_service_error(form, exc)
                else:
                    _say_received(request, application)
                    return redirect("refund:application_detail", pk=application.pk)
    else:
        form = ApplicationEntryForm(initial={"received_on": timezone.localdate()})
    style_form(form)
    return render(request, "refund/applications/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_import(request):
    """申请导入: the core system's xlsx, applied completely or not at all; the summary, or every error."""
    summary, errors, warnings, status = None, [], [], 200
    if request.method == "POST":
        form = ApplicationImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                summary = applications_import_xlsx(actor=request.user, file=form.cleaned_data["file"])
            except ApplicationImportRejected as exc:
                errors, warnings = exc.errors, exc.warnings
                form.add_error(None, exc.message)
                status = 400
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                form = ApplicationImportForm()
        else:
            status = 400
    else:
        form = ApplicationImportForm()
    if summary is not None:
        warnings = summary.warnings
        decorate(summary.created, timezone.localdate())
    context = {"form": form, "summary": summary, "errors": errors, "warnings": warnings}
    return render(request, "refund/applications/import.html", context, status=status)
