"""系统管理 → 用户与岗位: the information centre's list of accounts, one account's roles, unit, status and password
reset, and the role grants and password resets that wait for a second person (岗位授权确认). Thin: parse, call a
selector or a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from core.listing import active_filter_count, add_service_error, mark_invalid, paginate, sort_columns, style_filter_form

from . import role_selectors as selectors
from . import services
from .audit_labels import change_rows, verb_label
from .forms import PasswordResetReasonForm, RoleGrantRejectForm, UserRolesForm
from .models import RoleGrantRequest
from .role_selectors import MANAGE_PERMISSION, VIEW_REQUESTS_PERMISSION, role_labels
from .roles import CONFIRM_POWER, ROLES, needs_second_person
from .services import PasswordReset

TWO_PERSON_RULE = (
    f"双人确认：授予{role_labels(code for code in ROLES if needs_second_person(code))}岗位"
    "（含审批退税、登记退库或确认岗位授权的权限）不会立即生效，而是生成授权申请，须由另一位信息中心人员或局领导确认；"
    "任何人都不能确认自己提出的申请或授予自己的岗位。其他岗位的授予、所有岗位的取消、所属机构和账户状态的修改立即生效。"
    "每一次修改、申请、确认和驳回都记入审计日志。超级管理员不在本系统授予。"
)
"""The two-person rule in the bureau's words, shown on every page of 用户与岗位 (accounts/services.py)."""

RESET_RULE = (
    "重置密码：系统生成一次性临时密码，只显示一次，不保存明文、不记入日志；用户下次登录须先修改密码，其接口令牌随即作废。"
    "用户持有需双人确认的岗位（含审批退税、登记退库或确认岗位授权的权限）或是超级管理员的，"
    "重置须由另一位信息中心人员或局领导确认后才生效，临时密码只显示给确认人；其他用户的密码立即重置，临时密码显示给申请人。"
    "任何人都不能在此重置本人的密码（请使用右上角的“修改密码”），也不能确认自己提出的申请或重置本人密码的申请。"
    "后台管理不能设置密码。每一次重置、申请、确认、驳回和修改密码都记入审计日志。"
)
"""The rule of password resets in the bureau's words (accounts/services.py), on the user page and the
confirmation page."""


def _role_tags(user) -> list[dict]:
    """The user's roles as tags in the order of ``ROLES``, then the grants that wait (from the prefetch)."""
    held = user.role_codes
    tags = [{"label": role.label, "pending": False} for code, role in ROLES.items() if code in held]
    tags += [{"label": grant.get_role_display(), "pending": True} for grant in getattr(user, "pending_grants", ())]
    return tags


@login_required
@permission_required(MANAGE_PERMISSION, raise_exception=True)
@require_GET
def user_list(request):
    """用户与岗位: every account with its unit, roles and status; filters and sorting kept in the URL."""
    filterset = selectors.user_filterset(user=request.user, filters=request.GET)
    listing = paginate(request, filterset.qs)
    for user in listing.page_obj.object_list:
        user.role_tags = _role_tags(user)
    context = {
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, selectors.USER_COLUMNS, default=selectors.USER_SORT),
        "active_filters": active_filter_count(request),
        "pending_count": selectors.pending_grant_count(user=request.user),
        "rule": TWO_PERSON_RULE,
    }
    return render(request, "accounts/user_list.html", context)


def _history(target) -> list:
    events = selectors.user_history(target=target)
    for event in events:
        event.verb_label = verb_label(event.verb)
        event.change_rows = change_rows(event.object_type, event.changes)
    return events


def _user_page(
    request, target, *, form=None, plan=None, reset_form=None, reset_confirm: bool = False, status: int = 200
):
    form = form or UserRolesForm(
        initial={
            "roles": [code.value for code in ROLES if code in target.role_codes],
            "branch": target.branch_id,
            "is_active": target.is_active,
        }
    )
    pending = {grant.role: grant for grant in target.pending_grants}
    context = {
        "target": target,
        "form": mark_invalid(form),
        "role_rows": [
            {**row, "pending": pending.get(row["widget"].data["value"])}
            for row in UserRolesForm.role_rows(form["roles"])
        ],
        "plan": plan,
        "plan_lines": plan.lines() if plan else [],
        "history": _history(target),
        "rule": TWO_PERSON_RULE,
        "reset_rule": RESET_RULE,
        "reset_form": mark_invalid(reset_form or PasswordResetReasonForm(prefix="reset")),
        "reset_confirm": reset_confirm,
        "reset_needs_second_person": selectors.reset_needs_second_person(target),
        "pending_reset": selectors.pending_password_reset(target=target),
        "is_self": target.pk == request.user.pk,
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@login_required
@permission_required(MANAGE_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def user_detail(request, pk: int):
    """One account: its roles, unit and status. A POST first shows what will happen (the confirmation panel);
    the POST of the panel (``confirmed``) saves through ``services.user_roles_change``."""
    target = selectors.user_get_for_manager(user=request.user, pk=pk)
    if request.method == "GET":
        return _user_page(request, target)
    form = UserRolesForm(request.POST)
    if not form.is_valid():
        return _user_page(request, target, form=form, status=400)
    data = form.cleaned_data
    change = {"roles": data["roles"], "branch": data["branch"], "is_active": data["is_active"]}
    plan = selectors.user_role_change_plan(user=target, **change)
    if not plan.has_changes:
        messages.info(request, "没有修改：岗位、所属机构和账户状态与原来相同。" + " ".join(plan.lines()))
        return redirect("accounts:user_detail", pk=pk)
    if plan.requested and not data["reason"].strip():
        form.add_error("reason", "授予需双人确认的岗位，请填写申请理由，供确认人参考。")
        return _user_page(request, target, form=form, status=400)
    if request.POST.get("confirmed") != "1":
        return _user_page(request, target, form=form, plan=plan)
    try:
        done = services.user_roles_change(actor=request.user, user=target, reason=data["reason"], **change)
    except ApplicationError as exc:
        add_service_error(form, exc)
        return _user_page(request, target, form=form, status=exc.status_code)
    messages.success(request, "已保存。" + " ".join(done.lines()))
    return redirect("accounts:user_detail", pk=pk)


def _temporary_password_page(request, reset: PasswordReset, *, back_url: str):
    """The temporary password, once: an answer to the POST that made it, never a redirect (a message would keep
    it in the session), never cached."""
    context = {"target": reset.user, "password": reset.temporary_password, "back_url": back_url}
    response = render(request, "accounts/password_reset_done.html", context)
    add_never_cache_headers(response)
    return response


@login_required
@permission_required(MANAGE_PERMISSION, raise_exception=True)
@require_POST
@sensitive_variables("reset")
def user_password_reset(request, pk: int):
    """重置密码 on the user page: a POST with the reason shows what will happen; the POST of that panel
    (``confirmed``) resets at once and shows the temporary password, or files the request for a second person."""
    target = selectors.user_get_for_manager(user=request.user, pk=pk)
    form = PasswordResetReasonForm(request.POST, prefix="reset")
    if not form.is_valid():
        return _user_page(request, target, reset_form=form, status=400)
    if target.pk == request.user.pk:
        form.add_error(None, "不能重置自己的密码，请使用右上角的“修改密码”。")
        return _user_page(request, target, reset_form=form, status=400)
    if request.POST.get("confirmed") != "1":
        return _user_page(request, target, reset_form=form, reset_confirm=True)
    try:
        reset = services.user_password_reset(actor=request.user, user=target, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        add_service_error(form, exc)
        return _user_page(request, target, reset_form=form, status=exc.status_code)
    if reset.pending:
        messages.success(
            request,
            f"已提出重置{target}密码的申请：须由另一位信息中心人员或局领导确认后才生效，临时密码将只显示给确认人。",
        )
        return redirect("accounts:user_detail", pk=pk)
    return _temporary_password_page(request, reset, back_url=reverse("accounts:user_detail", args=[pk]))


# --- 岗位授权确认 -----------------------------------------------------------------------------------------------


RESETS_SHOWN = 20  # the newest password resets on the confirmation page, those waiting first
GRANTS, RESETS = "r", "p"  # the page's two tables: the prefix of their reject forms, the first half of error keys


def _with_actions(request, pending, table: str, refusal: str, *, errors: dict, reject_forms: dict):
    """What the page shows beside a request of the two-person rule: why the reader may not confirm it, whether they
    may withdraw it, the error of their last attempt on it and its reject form."""
    key = (table, pending.pk)
    pending.refusal = refusal
    pending.can_withdraw = pending.is_pending and pending.requested_by_id == request.user.pk
    pending.error = errors.get(key, "")
    pending.reject_form = mark_invalid(reject_forms.get(key) or RoleGrantRejectForm(prefix=f"{table}{pending.pk}"))
    return pending


def _requests_page(request, *, errors: dict | None = None, reject_forms: dict | None = None, status: int = 200):
    """岗位授权确认, the password resets above the role grants; ``errors`` and ``reject_forms`` are keyed by the
    (table, pk) of the request they belong to."""
    status_filter, user = request.GET.get("status", ""), request.user
    actions = {"errors": errors or {}, "reject_forms": reject_forms or {}}
    listing = paginate(request, selectors.role_grant_requests_for_user(user=user, status=status_filter))
    for grant in listing.page_obj.object_list:
        refusal = selectors.confirm_refusal(actor=user, grant_request=grant)
        _with_actions(request, grant, GRANTS, refusal, **actions)
    resets = list(selectors.password_reset_requests_for_user(user=user, status=status_filter)[:RESETS_SHOWN])
    for reset in resets:
        refusal = selectors.reset_confirm_refusal(actor=user, reset_request=reset)
        _with_actions(request, reset, RESETS, refusal, **actions)
    context = {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "status_filter": status_filter,
        "statuses": RoleGrantRequest.Status.choices,
        "can_decide": user.has_perm(CONFIRM_POWER),
        "rule": TWO_PERSON_RULE,
        "reset_rule": RESET_RULE,
        "resets": resets,
        "resets_shown": RESETS_SHOWN,
    }
    return render(request, "accounts/role_requests.html", context, status=status)


@login_required
@permission_required(VIEW_REQUESTS_PERMISSION, raise_exception=True)
@require_GET
def role_requests(request):
    """岗位授权确认: the grants of the two-person rule, those waiting first, with who may confirm them."""
    return _requests_page(request)


def _decision(request, pending, table: str, action):
    """Confirm or withdraw ``pending`` through ``action`` (which returns the message of success); on the service's
    refusal, the page again with the refusal beside the request."""
    try:
        text = action(pending)
    except ApplicationError as exc:
        return _requests_page(request, errors={(table, pending.pk): exc.message}, status=exc.status_code)
    messages.success(request, text)
    return redirect("accounts:role_requests")


_GET = {GRANTS: selectors.role_grant_request_get_for_user, RESETS: selectors.password_reset_request_get_for_user}
"""The request of a table by its pk, among those the reader may see (404 otherwise)."""


@login_required
@permission_required(CONFIRM_POWER, raise_exception=True)
@require_POST
def role_request_approve(request, pk: int):
    def action(grant):
        grant = services.role_grant_approve(actor=request.user, grant_request=grant)
        return f"已确认：{grant.user}获得「{grant.get_role_display()}」岗位，即时生效。"

    return _decision(request, _GET[GRANTS](user=request.user, pk=pk), GRANTS, action)


@login_required
@permission_required(CONFIRM_POWER, raise_exception=True)
@require_POST
def request_reject(request, pk: int, table: str):
    """驳回 a role grant or a password reset (``table``, given by the URL) with the note of its reject form; the page
    again with the form and its errors when the form or the service refuses."""
    pending = _GET[table](user=request.user, pk=pk)
    form = RoleGrantRejectForm(request.POST, prefix=f"{table}{pending.pk}")
    status = 400
    if form.is_valid():
        try:
            decided = services.second_person_request_reject(
                actor=request.user, pending=pending, note=form.cleaned_data["note"]
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, f"已驳回{decided.subject}的申请，已通知申请人。")
            return redirect("accounts:role_requests")
    return _requests_page(request, reject_forms={(table, pending.pk): form}, status=status)


@login_required
@permission_required(MANAGE_PERMISSION, raise_exception=True)
@require_POST
def request_withdraw(request, pk: int, table: str):
    """撤回: the requester takes back a role grant or a password reset (``table``, given by the URL)."""

    def action(pending):
        decided = services.second_person_request_withdraw(actor=request.user, pending=pending)
        return f"已撤回{decided.subject}的申请。"

    return _decision(request, _GET[table](user=request.user, pk=pk), table, action)


# --- 密码重置确认 (beside the role grants) -------------------------------------------------------------------------


@login_required
@permission_required(CONFIRM_POWER, raise_exception=True)
@require_POST
@sensitive_variables("reset")
def password_reset_approve(request, pk: int):
    """确认重置: the second person confirms, and sees the temporary password once (the requester never does). Not
    through ``_decision``: the answer is the page of the password, and ``reset`` stays in this frame alone."""
    pending = _GET[RESETS](user=request.user, pk=pk)
    try:
        reset = services.password_reset_approve(actor=request.user, reset_request=pending)
    except ApplicationError as exc:
        return _requests_page(request, errors={(RESETS, pending.pk): exc.message}, status=exc.status_code)
    return _temporary_password_page(request, reset, back_url=reverse("accounts:role_requests"))
