"""集体会商's pages: the list (filters in the URL) and its xlsx export, opening one on an application, and the
consultation's page (hits with evidence, participants and opinions, minutes and decision) with its forms. Thin:
a selector to read, a service to write; a refusal shows beside the form concerned."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.listing import active_filter_count, paginate, sort_columns, style_filter_form
from core.masking import mask_identifier
from refund.applications.selectors import application_get_for_user

from ..models import RiskGrade
from . import selectors, services
from .forms import ConsultationOpenForm, DecisionForm, OpinionForm, ParticipantsForm

VIEW = "risk.view_consultation"
OPEN = "risk.add_consultation"
OPINE = "risk.opine_consultation"
DECIDE = "risk.decide_consultation"
EXPORT = "risk.export_consultation"
STATE_TAGS = {"open": "tag-progress", "decided": "tag-done"}
DECISION_TAGS = {"approve": "tag-done", "return": "tag-failed", "reject": "tag-failed"}
EXPORT_HEADERS = (
    "会商编号", "纳税人识别号", "纳税人名称", "主管税务机关", "申请退税所属期", "确认退税额（元）", "发起时风险等级",
    "提请会商事由", "主持人", "发起时间", "参会人数", "已发表意见", "状态", "会商决定", "决定说明", "决定时间",
)  # fmt: skip


def _decorate(rows):
    for row in rows:
        row.url = reverse("risk:consultation", args=[row.pk])
        row.state_tag = STATE_TAGS.get(row.state, "tag-waiting")
        row.decision_tag = DECISION_TAGS.get(row.decision, "tag-waiting")
    return rows


def _export_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def consultation_list(request):
    """集体会商: the consultations the user may see, open ones and decided ones, as the URL filters them."""
    filterset = selectors.consultation_filterset(user=request.user, filters=request.GET)
    listing = paginate(request, filterset.qs)
    _decorate(listing.page_obj.object_list)
    context = {
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.COLUMNS, default=selectors.DEFAULT_SORT),
        "active_filters": active_filter_count(request),
        "export_query": _export_query(request),
        "can_export": request.user.has_perm(EXPORT),
    }
    return render(request, "risk/consultations/list.html", context)


def _grade_label(value: str) -> str:
    return RiskGrade(value).label if value in RiskGrade.values else "未扫描"


def _rows(queryset):
    for row in queryset.iterator(chunk_size=2000):
        application = row.application
        yield (
            row.pk,
            mask_identifier(application.taxpayer.identifier),
            application.taxpayer.name,
            application.branch.name,
            str(application.application_period),
            application.confirmed_amount,
            _grade_label(row.grade),
            row.reason,
            str(row.host),
            row.opened_at,
            row.invited,
            row.opinions,
            row.get_state_display(),
            row.get_decision_display(),
            row.decision_note,
            row.decided_at,
        )


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def consultation_export(request):
    """Exactly what the list's filters show, identifiers masked; audited."""
    filterset = selectors.consultation_filterset(user=request.user, filters=request.GET)
    return audited_xlsx_export(
        request, title="集体会商", object_type="risk.consultation", headers=EXPORT_HEADERS, rows=_rows(filterset.qs)
    )


@login_required
@permission_required(OPEN, raise_exception=True)
@require_http_methods(["GET", "POST"])
def consultation_open(request, application_pk: int):
    """发起集体会商 on an application the user may see: the hits it would weigh, the reason and the participants."""
    application = application_get_for_user(user=request.user, pk=application_pk)
    grouped = selectors.invitable(application, invited=[request.user.pk])
    form = ConsultationOpenForm(request.POST or None, grouped=grouped)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                consultation = services.consultation_open(
                    actor=request.user, application=application, **form.cleaned_data
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, "集体会商已发起，参会人可在会商页面发表意见。")
                return redirect("risk:consultation", consultation.pk)
        else:
            status = 400
    context = {
        "application": application,
        "form": form,
        "panel": selectors.application_risk_panel(application.pk),
        "under_way": [c for c in selectors.application_consultations(application.pk) if c.state == "open"],
    }
    return render(request, "risk/consultations/open.html", context, status=status)


def _page(request, pk: int, *, forms: dict | None = None, status: int = 200):
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    page = selectors.consultation_page(consultation)
    is_open = consultation.state == consultation.State.OPEN
    mine = next((row for row in page["participants"] if row.user_id == request.user.pk), None)
    forms = forms or {}
    can_opine = is_open and mine is not None and request.user.has_perm(OPINE)
    can_decide = is_open and request.user.has_perm(DECIDE)
    grouped = selectors.invitable(consultation.application, invited=[row.user_id for row in page["participants"]])
    if can_opine and "opinion" not in forms:
        forms["opinion"] = OpinionForm(initial={"opinion": mine.opinion or None, "text": mine.text})
    if can_decide:
        forms.setdefault("decision", DecisionForm())
        forms.setdefault("participants", ParticipantsForm(grouped=grouped))
    context = {
        "consultation": consultation,
        "application": consultation.application,
        **page,
        "mine": mine,
        "state_tag": STATE_TAGS.get(consultation.state, "tag-waiting"),
        "decision_tag": DECISION_TAGS.get(consultation.decision, "tag-waiting"),
        "opinion_form": forms.get("opinion") if can_opine else None,
        "decision_form": forms.get("decision") if can_decide else None,
        "participants_form": forms.get("participants") if can_decide and grouped else None,
        "can_see_application": request.user.has_perm("refund.view_refundapplication"),
    }
    return render(request, "risk/consultations/detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def consultation_detail(request, pk: int):
    """One consultation: the application and its hits with evidence, the participants and their opinions, the
    minutes and the decision; the forms of whoever may still act on it."""
    return _page(request, pk)


def _post(request, pk: int, *, name: str, form, service, done: str, **kwargs):
    """Run ``service`` with the valid ``form``; a refusal re-renders the page with it beside the form."""
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    if not form.is_valid():
        return _page(request, pk, forms={name: form}, status=400)
    try:
        service(actor=request.user, consultation=consultation, **form.cleaned_data, **kwargs)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _page(request, pk, forms={name: form}, status=exc.status_code)
    messages.success(request, done)
    return redirect("risk:consultation", pk)


@login_required
@permission_required(OPINE, raise_exception=True)
@require_POST
def consultation_opinion(request, pk: int):
    """A participant's opinion (同意 / 不同意 / 补充意见)."""
    return _post(
        request, pk, name="opinion", form=OpinionForm(request.POST), service=services.consultation_opinion_record,
        done="会商意见已记录。",
    )  # fmt: skip


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def consultation_participants(request, pk: int):
    """The host invites more participants."""
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    invited = consultation.participants.values_list("user_id", flat=True)
    form = ParticipantsForm(request.POST, grouped=selectors.invitable(consultation.application, invited=invited))
    return _post(
        request, pk, name="participants", form=form, service=services.consultation_participants_add,
        done="参会人已邀请。",
    )  # fmt: skip


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def consultation_decide(request, pk: int):
    """The host's minutes and decision; 退回申请 and 不予退税 act on the application at once."""
    return _post(
        request, pk, name="decision", form=DecisionForm(request.POST), service=services.consultation_decide,
        done="会商决定已记录，会商结束。",
    )  # fmt: skip
