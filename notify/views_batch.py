"""新建短信批次: choose a template, paste or upload the recipients, preview, confirm — then the batch page.

The preview is kept as a draft in the cache (one hour, for the officer who made it); 确认发送 renders
it again (opt-outs and the template as they are now) and creates the batch under the draft's key, so a
second click returns the same batch instead of sending twice.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import BatchForm
from .models import MessageTemplate, OptOut
from .recipients import MOBILE_HEADER, RecipientRow, build_preview
from .text import InvalidMobile, display_body, normalise_mobile, segment_count, unique_variables, variable_label

CREATE_PERMISSION = "notify.add_smsbatch"
DRAFT_SECONDS = 3600


def _draft_key(token: str) -> str:
    return f"notify:batch-draft:{token}"


def _preview(template, rows):
    numbers = set()
    for row in rows:
        try:
            numbers.add(normalise_mobile(row.mobile))
        except InvalidMobile:
            continue
    opted = set(OptOut.objects.filter(mobile__in=numbers).values_list("mobile", flat=True))
    return build_preview(template=template, rows=rows, opted_out=opted, now=timezone.now())


def _template_info(template: MessageTemplate | None) -> dict | None:
    if template is None:
        return None
    labels = [variable_label(name) for name in unique_variables(template.body)]
    return {
        "template": template,
        "variables": labels,
        "header": "、".join([MOBILE_HEADER, *labels]),
        "sample": display_body(template.body) + template.sign_text,
        "length": len(template.body + template.sign_text),
        "parts": segment_count(template.body + template.sign_text),
        "gateway_template": bool(template.mas_template_id),
    }


def _form(request, data=None, files=None):
    return BatchForm(data, files, templates=selectors.active_templates(),
                     branches=selectors.branch_choices(request.user))


@login_required
@permission_required(CREATE_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def batch_new(request):
    """GET: the form. POST: validate the recipients and show the preview with the confirmation."""
    if request.method == "GET":
        form = _form(request)
        chosen = request.GET.get("template", "")
        template = selectors.active_templates().filter(pk=int(chosen)).first() if chosen.isdigit() else None
        context = {"form": form, "info": _template_info(template), "selected": str(template.pk) if template else ""}
        return render(request, "notify/batch_new.html", context)
    form = _form(request, request.POST, request.FILES)
    if not form.is_valid():
        template = form.cleaned_data.get("template")
        context = {"form": form, "info": _template_info(template), "selected": str(template.pk) if template else ""}
        return render(request, "notify/batch_new.html", context, status=400)
    data = form.cleaned_data
    template, rows = data["template"], data["rows"]
    preview, _ = _preview(template, rows)
    preview.notices = data["notices"]
    token = secrets.token_urlsafe(16)
    cache.set(_draft_key(token), {
        "user": request.user.pk,
        "template": template.pk,
        "template_updated": template.updated_at.isoformat(),
        "name": data["name"],
        "branch_id": data.get("branch"),
        "rows": [(r.row, r.mobile, r.variables) for r in rows],
    }, DRAFT_SECONDS)
    context = {
        "preview": preview,
        "template": template,
        "name": data["name"],
        "branch_name": dict(selectors.branch_choices(request.user)).get(data.get("branch"), ""),
        "token": token,
        "info": _template_info(template),
        "backend": settings.SMS_BACKEND,
    }
    return render(request, "notify/batch_preview.html", context)


@login_required
@permission_required(CREATE_PERMISSION, raise_exception=True)
@require_POST
def batch_confirm(request):
    """确认发送: the draft the officer previewed becomes a batch (audited), then the batch page."""
    token = request.POST.get("token", "")
    draft = cache.get(_draft_key(token)) if token else None
    if not draft or draft["user"] != request.user.pk:
        messages.error(request, "预览已过期或不存在，请重新上传收件人并预览")
        return redirect("notify:batch_new")
    template = selectors.active_templates().filter(pk=draft["template"]).first()
    if template is None or template.updated_at.isoformat() != draft["template_updated"]:
        messages.error(request, "模板在预览后已被修改或停用，请重新预览")
        return redirect("notify:batch_new")
    rows = [RecipientRow(row=n, mobile=m, variables=v) for n, m, v in draft["rows"]]
    _, recipients = _preview(template, rows)
    batch = services.sms_batch_create(
        actor=request.user, name=draft["name"], template=template, recipients=recipients,
        batch_key=f"ui:{token}", branch_id=draft["branch_id"],
    )
    messages.success(request, f"短信批次已创建，共 {batch.total} 条，正在排队发送")
    return redirect("notify:batch_detail", pk=batch.pk)


@login_required
@permission_required(CREATE_PERMISSION, raise_exception=True)
@require_GET
def template_info(request):
    """htmx: the chosen template's text, variables, the header a recipient list needs, and its length."""
    chosen = request.GET.get("template", "")
    template = selectors.active_templates().filter(pk=int(chosen)).first() if chosen.isdigit() else None
    return render(request, "notify/_template_info.html", {"info": _template_info(template)})
