"""大额退税签批: the supervisor's page of applications waiting for a sign-off, and the bureau's threshold with its
history. The sign-off itself is an action of the application page (``views.ACTIONS``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError

from . import selectors, workflow
from .sign_off import sign_off_threshold_set
from .views import decorate, style_form

VIEW_THRESHOLD = "refund.view_signoffthreshold"
SET_THRESHOLD = "refund.add_signoffthreshold"


class ThresholdForm(forms.Form):
    amount = forms.DecimalField(
        label="签批金额标准（元）",
        max_digits=16,
        decimal_places=2,
        min_value=0.01,
        error_messages={"required": "请填写签批金额标准。", "min_value": "签批金额标准须大于0元。"},
    )
    effective_from = forms.DateField(
        label="生效日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写生效日期。", "invalid": "请按“年-月-日”填写生效日期。"},
    )
    reason = forms.CharField(label="调整原因", max_length=200, error_messages={"required": "请填写调整原因。"})


@login_required
@permission_required(VIEW_THRESHOLD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def sign_off_page(request):
    """What waits for the supervisor's sign-off (scoped like the queue), then the threshold and its history."""
    today = timezone.localdate()
    form = ThresholdForm(initial={"effective_from": today})
    error = ""
    if request.method == "POST":
        if not request.user.has_perm(SET_THRESHOLD):
            raise PermissionDenied("no permission to set the sign-off threshold")
        form = ThresholdForm(request.POST)
        if form.is_valid():
            try:
                sign_off_threshold_set(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                error = exc.message
            else:
                messages.success(request, "已调整大额退税签批标准。")
                return redirect("refund:sign_off")
    threshold = workflow.sign_off_threshold_on(today)
    waiting = list(selectors.applications_awaiting_sign_off(user=request.user, threshold=threshold)[:200])
    decorate(waiting, today)
    context = {
        "threshold": threshold,
        "waiting": waiting,
        "thresholds": list(selectors.sign_off_thresholds()),
        "form": style_form(form),
        "form_error": error,
        "can_set": request.user.has_perm(SET_THRESHOLD),
        "can_sign": request.user.has_perm("refund.sign_off_refundapplication"),
    }
    return render(request, "refund/applications/sign_off.html", context, status=400 if error or form.errors else 200)
