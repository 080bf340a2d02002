"""候选名单 pages: the lists by push date and branch (and the 即时名单, pushed any day), a list's items (filters,
export, reminders), an item's page
(the screening figures, verification, coaching), a branch officer's worklist 我的候选名单, and the higher
bureau's list import. Thin: parse, call a selector or a service, render.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from accounts.scoping import visible_branch_ids
from core.errors import ApplicationError
from core.listing import (
    active_filter_count,
    add_service_error,
    mark_invalid,
    paginate,
    sort_columns,
    style_filter_form,
)
from core.masking import mask_identifier, mask_mobile
from core.periods import Period
from taxpayers.calendar import CalendarUnavailable

from ..labels import STAGE_TAGS, condition_titles, regime_title
from ..models import CandidateItem, CandidateList, CandidateSettings, ScreeningRun
from . import adhoc, push_dates, reminders, selectors, services
from .forms import ITEM_FORMS, BuildForm, PeriodForm, UpperImportForm
from .risk import candidate_flags, candidate_risk_panel

VIEW_LIST = "refund.view_candidatelist"
VIEW_ITEM = "refund.view_candidateitem"
EXPORT = "refund.export_candidatelist"
WORK = "refund.work_candidateitem"
REMIND = "refund.remind_candidates"
BUILD = "refund.build_candidatelist"
IMPORT_UPPER = "refund.import_upperlist"
LISTS_PER_PAGE = 60  # about ten push dates of a county's lists

EXPORT_HEADERS = (
    "推送日期", "申请所属期", "纳税人识别号", "纳税人名称", "主管税务机关", "适用政策", "筛查结论", "可退增量（元）",
    "可退存量（元）", "可退税额（元）", "未满足条件", "来源", "上级下发金额（元）", "上级下发备注", "新增/已推送",
    "本所属期首次推送", "进度", "提醒时间", "申报时间", "申请时间", "退税时间", "申请前调查", "放弃或不符合的原因",
)  # fmt: skip


def _decorate(items):
    """Display attributes for the item table (taxpayer and branch are joined; the risk flags of the page's items
    come from the scan before the push, one read for the page)."""
    flags = candidate_flags(items)
    for item in items:
        item.stage_tag = STAGE_TAGS.get(item.stage, "tag-waiting")
        item.regime_title = regime_title(item.regime) if item.regime else ""
        item.failed_labels = condition_titles(item.failed_conditions)
        item.risk_flag = flags.get(item.pk)
    return items


def _stage_links(request, counts: dict) -> list[dict]:
    rows = selectors.funnel_rows(counts)
    for row in rows:
        params = request.GET.copy()
        params.pop("page", None)
        params["stage"] = row["key"] if row["key"] in CandidateItem.Stage.values else ""
        row["url"] = "?" + params.urlencode()
    return rows


def _item_table_context(request, *, queryset, default_stage: str = "") -> dict:
    filterset = selectors.candidate_item_filterset(
        user=request.user, queryset=queryset, filters=request.GET, default_stage=default_stage
    )
    listing = paginate(request, filterset.qs)
    _decorate(listing.page_obj.object_list)
    export_query = request.GET.copy()
    export_query.pop("page", None)
    if default_stage and "stage" not in export_query:
        export_query["stage"] = default_stage
    return {
        "filterset": filterset,
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.ITEM_COLUMNS, default=selectors.ITEM_DEFAULT_SORT),
        "active_filters": active_filter_count(request),
        "export_query": export_query.urlencode(),
        "can_export": request.user.has_perm(EXPORT),
    }


def _export_rows(items):
    for item in items.iterator(chunk_size=2000):
        taxpayer = item.taxpayer
        yield (
            item.push_date,
            item.application_period,
            mask_identifier(taxpayer.identifier),
            taxpayer.name,
            item.branch.name,
            regime_title(item.regime) if item.regime else "",
            "" if item.eligible is None else ("符合" if item.eligible else "不符合"),
            item.refundable_incremental,
            item.refundable_stock,
            item.refundable_total,
            "；".join(condition_titles(item.failed_conditions)),
            item.get_source_display(),
            item.upper_amount,
            item.upper_note,
            "已推送" if item.previously_listed else "新增",
            item.first_listed_on,
            item.get_stage_display(),
            item.reminded_at,
            item.declared_at,
            item.applied_at,
            item.refunded_at,
            item.get_verification_display() if item.verification else "",
            item.closed_reason,
        )


def _period_choice(request) -> tuple[Period | str, PeriodForm]:
    """The valid period the URL asks for ("" when none, or when it is not a month: the form says why)."""
    form = PeriodForm(request.GET)
    return (form.cleaned_data["period"] if form.is_valid() else ""), form


def _audience_name(candidate_list: CandidateList) -> str:
    return candidate_list.branch.name if candidate_list.branch_id else "纳税服务股"


# --- the lists ---------------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_LIST, raise_exception=True)
@require_GET
def candidate_lists(request):
    """候选名单: every list the user may see, newest push date first, with each list's funnel."""
    lists = selectors.candidate_lists_for_user(user=request.user)
    period, period_form = _period_choice(request)
    if period:
        lists = lists.filter(application_period=period)
    periods = list(
        selectors.candidate_lists_for_user(user=request.user)
        .order_by("-application_period")
        .values_list("application_period", flat=True)
        .distinct()[:24]
    )
    lists = selectors.candidate_lists_sorted(lists, request.GET.get("sort"))
    listing = paginate(request, lists, per_page=LISTS_PER_PAGE)
    page_lists = list(listing.page_obj.object_list)
    funnels = selectors.list_funnels(page_lists)
    for lst in page_lists:
        lst.funnel = funnels.get(lst.pk, {})
    today = timezone.localdate()
    try:
        upcoming = push_dates.upcoming_push_dates(today, count=3)
        latest = push_dates.latest_push_date(today)
        calendar_error = ""
    except CalendarUnavailable as exc:
        upcoming, latest, calendar_error = [], None, exc.message
    built_dates = set(
        CandidateList.regular.filter(push_date__in=[d for d in [latest, *upcoming] if d]).values_list(
            "push_date", flat=True
        )
    )
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.LIST_COLUMNS, default=selectors.LIST_SORT),
        "lists": page_lists,
        "period": period,
        "period_form": period_form,
        "periods": periods,
        "upcoming": [{"date": d, "built": d in built_dates} for d in upcoming],
        "latest_push": latest,
        "latest_built": latest in built_dates if latest else True,
        "calendar_error": calendar_error,
        "last_run": ScreeningRun.objects.filter(status=ScreeningRun.Status.SUCCEEDED).order_by("-finished_at").first(),
        "can_build": request.user.has_perm(BUILD),
        "can_import": request.user.has_perm(IMPORT_UPPER),
        "auto_remind": CandidateSettings.load().auto_remind,
    }
    return render(request, "refund/candidates/list_index.html", context)


@login_required
@permission_required(VIEW_LIST, raise_exception=True)
@require_GET
def candidate_list_detail(request, pk: int):
    candidate_list, items = _list_items(request, pk)
    context = _item_table_context(request, queryset=items)
    counts = selectors.funnel_counts(context["filterset"].qs)
    can_remind = request.user.has_perm(REMIND)
    context.update(
        {
            "candidate_list": candidate_list,
            "funnel": _stage_links(request, counts),
            "filtered_amount": counts["amount"],
            "can_remind": can_remind,
            # The reminder button counts who can be reminded now (and says why nobody can), as its confirmation does.
            "remind_preview": reminders.candidate_list_remind_preview(candidate_list=candidate_list)
            if can_remind
            else None,
            "show_branch": not candidate_list.branch_id,
            "can_push": candidate_list.is_adhoc and request.user.has_perm(BUILD),
        }
    )
    return render(request, "refund/candidates/list_detail.html", context)


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def candidate_list_export(request, pk: int):
    """Exactly what the list's filters show, masked identifiers, as xlsx; audited."""
    candidate_list, items = _list_items(request, pk)
    filterset = selectors.candidate_item_filterset(user=request.user, queryset=items, filters=request.GET)
    title = f"候选名单-{candidate_list.push_date:%Y%m%d}-{_audience_name(candidate_list)}"
    return _export(request, title, "refund.candidatelist", filterset.qs)


def _list_items(request, pk: int):
    """The list (404 outside the user's scope) and its items the user may see."""
    candidate_list = selectors.candidate_list_get_for_user(user=request.user, pk=pk)
    return candidate_list, selectors.candidate_list_items_for_user(user=request.user, candidate_list=candidate_list)


def _export(request, title: str, object_type: str, items):
    """The item table as xlsx with the export headers, audited."""
    return audited_xlsx_export(
        request, title=title, object_type=object_type, headers=EXPORT_HEADERS, rows=_export_rows(items)
    )


@login_required
@permission_required(BUILD, raise_exception=True)
@require_POST
def candidate_build(request):
    """生成名单 by hand (the 07:30 beat entry normally does it): build from the latest finished screening, notify."""
    form = BuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择要生成名单的推送日期（YYYY-MM-DD）。")
        return redirect("refund:candidate_lists")
    push_date = form.cleaned_data["push_date"]
    if push_date > timezone.localdate():
        messages.error(request, f"{push_date.isoformat()} 尚未到来；名单在推送日当天生成。")
        return redirect("refund:candidate_lists")
    try:
        outcome = services.candidate_lists_build(actor=request.user, push_date=push_date)
        services.candidate_lists_notify(push_date=push_date)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("refund:candidate_lists")
    if outcome.created:
        messages.success(
            request,
            f"已生成 {push_date.isoformat()} 候选名单 {len(outcome.lists)} 份，共 {outcome.item_count} 户，"
            "并已通知各分局和纳税服务股。",
        )
    else:
        messages.info(request, f"{push_date.isoformat()} 的候选名单此前已生成，未作任何更改。")
    return redirect(f"{reverse('refund:candidate_lists')}?period={outcome.application_period}")


@login_required
@permission_required(BUILD, raise_exception=True)
@require_POST
def candidate_adhoc_push(request, pk: int):
    """推送即时名单: the taxpayers added since the last push, any day (the confirmation is on the button)."""
    candidate_list = selectors.candidate_list_get_for_user(user=request.user, pk=pk)
    try:
        count = adhoc.candidate_adhoc_push(actor=request.user, candidate_list=candidate_list)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已推送即时名单 {count} 户，并已站内通知纳税服务股和相关分局。")
    return redirect("refund:candidate_list_detail", pk=candidate_list.pk)


# --- reminders ----------------------------------------------------------------------------------------------------


@login_required
@permission_required(REMIND, raise_exception=True)
@require_http_methods(["GET", "POST"])
def candidate_remind(request, pk: int):
    """GET: the confirmation with how many taxpayers will get an SMS; POST: put them in the outbox."""
    candidate_list = selectors.candidate_list_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            outcome = services.candidate_list_remind(actor=request.user, candidate_list=candidate_list)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            text = f"已将 {outcome.enqueued} 条提醒短信放入发件箱"
            if outcome.unreachable:
                text += f"；{outcome.unreachable} 户没有有效的手机号码或已退订，未发送（见名单中的“提醒”列）"
            messages.success(request, text + "。")
        return redirect("refund:candidate_list_detail", pk=candidate_list.pk)
    preview = reminders.candidate_list_remind_preview(candidate_list=candidate_list)
    try:
        template = reminders.reminder_template()
        template_error = ""
    except ApplicationError as exc:
        template, template_error = None, exc.message
    context = {
        "candidate_list": candidate_list,
        "preview": preview,
        "template": template,
        "template_error": template_error,
    }
    return render(request, "refund/candidates/remind_confirm.html", context)


# --- items --------------------------------------------------------------------------------------------------------


def _item_form(name: str, data=None, *, initial=None):
    return ITEM_FORMS[name](data, initial=initial, auto_id=f"id_{name}_%s")


@login_required
@permission_required(VIEW_ITEM, raise_exception=True)
@require_GET
def candidate_item(request, pk: int):
    """One candidate: the decision and the amount first, then why, then what officers recorded and when."""
    return _item_page(request, pk)


def _item_page(request, pk: int, *, bound: dict | None = None, status: int = 200):
    """The item's page; ``bound`` holds the refused form by name, shown with what was typed and its errors."""
    item = selectors.candidate_item_get_for_user(user=request.user, pk=pk)
    _decorate([item])
    today = timezone.localdate()
    initial = {"verify": {"verified_on": today}, "coach": {"coached_on": today}}
    forms_ = {name: (bound or {}).get(name) or _item_form(name, initial=initial.get(name)) for name in ITEM_FORMS}
    context = {
        "item": item,
        "taxpayer": item.taxpayer,
        "earlier": list(selectors.earlier_items(item)),
        "coachings": list(item.coachings.select_related("officer")),
        "history": list(selectors.item_history(item)[:50]),
        "can_work": request.user.has_perm(WORK),
        "verify_form": forms_["verify"],
        "decline_form": forms_["decline"],
        "reopen_form": forms_["reopen"],
        "coaching_form": forms_["coach"],
        "risk_panel": candidate_risk_panel(item),
        "reminder_mobile": mask_mobile(item.reminder_sms.recipient) if item.reminder_sms_id else "",
        # A 即时名单 spans every branch: a branch officer reaches its items, not the list.
        "list_visible": item.candidate_list.branch_id is not None or visible_branch_ids(request.user) is None,
    }
    return render(request, "refund/candidates/item_detail.html", context, status=status)


def _item_action(request, pk: int, name: str, action):
    """Record one form of the item's page. Refused input re-renders the page (400) with that form as it was typed
    and each error beside its field; success goes back to the page with the message."""
    item = selectors.candidate_item_get_for_user(user=request.user, pk=pk)
    form = _item_form(name, request.POST)
    status = 400
    if form.is_valid():
        try:
            text = action(item, form.cleaned_data)
        except ApplicationError as exc:
            add_service_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, text)
            return redirect("refund:candidate_item", pk=pk)
    return _item_page(request, pk, bound={name: mark_invalid(form)}, status=status)


def _item_action_view(name: str, action):
    """The POST view of one form of the item's page: ``action(user, item, data)`` records the form's data through
    its service and returns the success message."""

    @login_required
    @permission_required(WORK, raise_exception=True)
    @require_POST
    def view(request, pk: int):
        return _item_action(request, pk, name, lambda item, data: action(request.user, item, data))

    view.__name__ = view.__qualname__ = f"candidate_item_{name}"
    return view


def _verify(user, item, data) -> str:
    item = services.candidate_item_verify(
        actor=user, item=item, result=data["result"], note=data["note"], verified_on=data["verified_on"]
    )
    return f"已登记申请前调查：{item.get_verification_display()}。"


def _decline(user, item, data) -> str:
    services.candidate_item_decline(actor=user, item=item, reason=data["reason"])
    return "已登记：纳税人放弃申请，继续留抵。"


def _reopen(user, item, data) -> str:
    item = services.candidate_item_reopen(actor=user, item=item, reason=data["reason"])
    return f"已恢复为“{item.get_stage_display()}”。"


def _coach(user, item, data) -> str:
    services.candidate_item_coach(
        actor=user, item=item, topic=data["topic"], notes=data["notes"], coached_on=data["coached_on"]
    )
    return "已登记一对一辅导。"


candidate_item_verify = _item_action_view("verify", _verify)
candidate_item_decline = _item_action_view("decline", _decline)
candidate_item_reopen = _item_action_view("reopen", _reopen)
candidate_item_coach = _item_action_view("coach", _coach)


# --- 我的候选名单 -----------------------------------------------------------------------------------------------


def _worklist_queryset(request):
    """The worklist's items of the period the URL asks for, else (none, or not a month) of the latest period."""
    periods = selectors.worklist_periods(user=request.user)
    period, period_form = _period_choice(request)
    period = period or (periods[0] if periods else "")
    items = selectors.candidate_items_for_user(user=request.user).filter(application_period=period)
    return selectors.latest_in_period(items), period, periods, period_form


@login_required
@permission_required(VIEW_ITEM, raise_exception=True)
@require_GET
def my_candidates(request):
    """我的候选名单: the branch's candidates of an application period, each taxpayer once (its latest push),
    open ones by default."""
    items, period, periods, period_form = _worklist_queryset(request)
    context = _item_table_context(request, queryset=items, default_stage="open")
    context.update(
        {
            "period": period,
            "period_form": period_form,
            "periods": periods,
            "funnel": _stage_links(request, selectors.funnel_counts(items)),
            "show_branch": True,
            "show_push_date": True,
        }
    )
    return render(request, "refund/candidates/my_candidates.html", context)


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def my_candidates_export(request):
    items, period, _periods, _form = _worklist_queryset(request)
    filterset = selectors.candidate_item_filterset(
        user=request.user, queryset=items, filters=request.GET, default_stage="open"
    )
    return _export(request, f"我的候选名单-{period}", "refund.candidateitem", filterset.qs)


# --- 上级下发名单 --------------------------------------------------------------------------------------------------


def _importable_dates() -> tuple[list[dt.date], str]:
    """Push dates from the latest one on whose lists are not built yet."""
    today = timezone.localdate()
    try:
        dates = [push_dates.latest_push_date(today), *push_dates.upcoming_push_dates(today, count=3)]
    except CalendarUnavailable as exc:
        return [], exc.message
    built = set(CandidateList.regular.filter(push_date__in=dates).values_list("push_date", flat=True))
    return sorted({d for d in dates if d not in built}), ""


@login_required
@permission_required(IMPORT_UPPER, raise_exception=True)
@require_http_methods(["GET", "POST"])
def upper_list_import(request):
    dates, calendar_error = _importable_dates()
    errors, warnings = [], []
    if request.method == "POST":
        form = UpperImportForm(request.POST, request.FILES, dates=dates)
        if form.is_valid():
            try:
                outcome = services.upper_list_import(
                    actor=request.user,
                    push_date=form.cleaned_data["push_date"],
                    source_name=form.cleaned_data["source_name"],
                    uploaded_file=form.cleaned_data["file"],
                )
            except services.UpperListRejected as exc:
                errors, warnings = exc.errors, exc.warnings
                form.add_error(None, exc.message)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                upload = outcome.upload
                if outcome.created:
                    messages.success(
                        request,
                        f"已导入上级下发名单 {upload.row_count} 户，"
                        f"将并入 {upload.push_date.isoformat()} 推送的候选名单。"
                        + ("；".join(outcome.warnings) if outcome.warnings else ""),
                    )
                else:
                    messages.info(
                        request,
                        f"该文件此前已导入（{upload.push_date.isoformat()}，{upload.row_count} 户），未作任何更改。",
                    )
                return redirect("refund:upper_list_import")
    else:
        form = UpperImportForm(dates=dates, initial={"push_date": dates[0].isoformat() if dates else ""})
    context = {
        "form": form,
        "errors": errors,
        "warnings": warnings,
        "calendar_error": calendar_error,
        "imports": list(selectors.upper_imports()[:50]),
    }
    return render(request, "refund/candidates/upper_import.html", context)
