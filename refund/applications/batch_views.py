"""The queue's batch bar: 批量审批 and 分派 of the selected (or all the filtered) applications — the confirmation
with how many it will act on and why not the others, then the action and its summary. Thin: parse, count with the
workflow's preconditions, call ``batch``, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.listing import mark_invalid

from ..models import RefundApplication
from . import batch, selectors, workflow
from .forms import AssignForm
from .views import APPROVE, REVIEW, VIEW, decorate, style_form

BATCH_LIMIT = 500  # one confirmation page lists every selected application


def _safe_back(request, fallback: str) -> str:
    url = request.POST.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return fallback


def _batch_count(applications: list[RefundApplication], blocks: dict) -> dict:
    """What the confirmed batch action will do: the applications it can act on now, and the others grouped by why
    not (``blocks``: the services' precondition of the action, the check the action makes again)."""
    groups: dict[str, int] = {}
    for application in applications:
        application.block = blocks.get(application.pk)
        if application.block is not None:
            groups[application.block.reason] = groups.get(application.block.reason, 0) + 1
    return {
        "doable": [a for a in applications if a.pk not in blocks],
        "blocked_count": len(blocks),
        "blocked_groups": list(groups.items()),
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def application_batch(request):
    """The batch bar: without ``confirm`` the confirmation (how many, what will happen); with it, the action.

    批量审批 ends on the summary of which were approved and why the others were not; 分派 back on the queue.
    """
    action = request.POST.get("action", "")
    back = _safe_back(request, reverse("refund:application_queue"))
    if action == "approve":
        if not request.user.has_perm(APPROVE):
            raise PermissionDenied("no permission to approve applications")
    elif action == "assign":
        if not request.user.has_perm(REVIEW):
            raise PermissionDenied("no permission to assign applications")
    else:
        return HttpResponseBadRequest("未知的批量操作。".encode())
    if request.POST.get("scope") == "filtered":
        # "Select every application the filters show" (e.g. all risk-free ones of my queue), not only this page.
        filterset = selectors.application_queue_filterset(
            user=request.user, filters=QueryDict(request.POST.get("filters", ""))
        )
        ids = list(filterset.qs.values_list("pk", flat=True)[: BATCH_LIMIT + 1])
    else:
        ids = request.POST.getlist("ids")
    if not ids:
        return render(
            request,
            "refund/applications/batch_empty.html",
            {"back_url": back, "action_label": "批量审批" if action == "approve" else "分派"},
            status=400,
        )
    if len(ids) > BATCH_LIMIT:
        messages.error(request, f"一次最多 {BATCH_LIMIT} 件申请，请缩小筛选范围后分批操作。")
        return redirect(back)
    applications = selectors.applications_selected_for_user(user=request.user, ids=ids)
    if not applications:
        raise Http404("no selected application in the user's scope")

    assign_form = None
    if action == "assign":
        assign_form = AssignForm(request.POST, officers=selectors.assignable_officers(user=request.user))
        if not assign_form.is_valid():
            # The confirmation with the officer to choose, the error beside the choice; the selection is kept.
            context = {
                "action": action,
                "applications": decorate(applications, timezone.localdate()),
                "assign_form": mark_invalid(style_form(assign_form)),
                "back_url": back,
                "doable": applications,  # counted against the officer once one is chosen
            }
            return render(request, "refund/applications/batch_confirm.html", context, status=400)

    if request.POST.get("confirm") != "1":
        context = {
            "action": action,
            "applications": decorate(applications, timezone.localdate()),
            "officer": assign_form.cleaned_data["officer"] if assign_form else None,
            "back_url": back,
        }
        if action == "approve":
            blocks = workflow.approval_blocks(actor=request.user, applications=applications)
        else:
            blocks = workflow.assignment_blocks(applications=applications, officer=context["officer"])
        context.update(_batch_count(applications, blocks))
        return render(request, "refund/applications/batch_confirm.html", context)

    try:
        if action == "assign":
            officer = assign_form.cleaned_data["officer"]
            count = batch.application_assign(actor=request.user, applications=applications, officer=officer)
            messages.success(request, f"已将 {count} 件申请分派给 {officer}。")
            return redirect(back)
        summary = batch.applications_approve_batch(actor=request.user, applications=applications)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    approved = list(summary.approved)
    refused = list(summary.refused)
    today = timezone.localdate()
    decorate([outcome.application for outcome in approved + refused], today)
    context = {"approved": approved, "refused": refused, "back_url": back, "total": len(approved) + len(refused)}
    return render(request, "refund/applications/batch_summary.html", context)
