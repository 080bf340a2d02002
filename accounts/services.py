"""Writes of the accounts app: a user's roles (岗位), unit and status, passwords, and the two-person rule on role
grants and password resets.

The two-person rule (双人确认), as the page states it: granting a role that carries approval or payment powers —
any role whose permissions include ``refund.approve_refundapplication`` or ``ledger.add_treasurypayment`` — or the
supervisor's role, or a role that may itself confirm such grants (the information centre's), does not take effect
at once. It becomes a pending ``RoleGrantRequest`` that a second person must confirm: another administrator or a
supervisor, never the one who asked for it and never the user who would receive the role. Every other role, every
removal of a role, a change of unit and (de)activation take effect at once. Superuser status is never granted here
(nor in the admin site, where it is read-only). Every change, request, confirmation, rejection and withdrawal
writes an audit event in its own transaction.

Password resets (重置密码) follow the same rule, because whoever knows a password can sign in as its holder:
resetting the password of a user who holds any role of the rule (``role_selectors.reset_needs_second_person``,
which asks ``roles.needs_second_person`` of each role held) or who is a superuser becomes a pending
``PasswordResetRequest`` that a second person confirms, as above; any other user's reset takes effect at once.
Nobody resets their own password this way (they change it, ``user_password_change``), and resets are made only
here: the admin site can no longer set passwords. A reset that takes effect gives the user a random temporary
password (``accounts.passwords.temporary_password``), returned once to the person whose action made it take
effect — the requester for an immediate reset, the confirmer otherwise, never the requester of a confirmed one —
and stored only as its hash, never logged, never in an audit event; the user must change it at the next sign-in
(``User.must_change_password``, enforced by ``accounts.middleware.PasswordChangeRequiredMiddleware``). A reset
that takes effect and a change of password both revoke the user's API tokens and end their other sessions (the
session carries a hash of the password). Every reset, request, confirmation, rejection, withdrawal and change
writes an audit event.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from rest_framework.authtoken.models import Token

from core.errors import ApplicationError, ConflictError
from notify.services import inbox_notify

from .audit import record_event
from .models import Branch, PasswordResetRequest, RoleGrantRequest, SecondPersonRequest, User
from .passwords import temporary_password
from .role_selectors import (
    MANAGE_PERMISSION,
    RoleChangePlan,
    confirm_refusal,
    reset_confirm_refusal,
    reset_needs_second_person,
    user_role_change_plan,
)
from .roles import CONFIRM_POWER, ROLES, RoleCode

REASON_MAX = 500
_Pending = TypeVar("_Pending", RoleGrantRequest, PasswordResetRequest)  # a request of the two-person rule


def _name(user) -> str:
    return (user.full_name or user.username) if user is not None else "（无）"


def _labels(codes: Iterable[RoleCode]) -> list[str]:
    return [ROLES[code].label for code in codes]


def _text(value: str, *, what: str, field: str, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(f"请填写{what}。", extra={"field": field})
    if len(text) > REASON_MAX:
        raise ApplicationError(f"{what}最多 {REASON_MAX} 个字，现为 {len(text)} 个。", extra={"field": field})
    return text


def _groups(codes: Iterable[RoleCode]) -> list[Group]:
    codes = list(codes)
    groups = list(Group.objects.filter(name__in=[code.value for code in codes]))
    if len(groups) != len(codes):
        raise ApplicationError("岗位尚未初始化，请联系运维人员执行数据库迁移后再试。")
    return groups


def _staff_follows_admin(user: User, roles_after: Iterable[RoleCode]) -> dict:
    """The admin site is the information centre's: ``is_staff`` follows the admin role (superusers keep theirs).
    Returns the audit change, if any."""
    staff = RoleCode.ADMIN in set(roles_after) or user.is_superuser
    if staff == user.is_staff:
        return {}
    before, user.is_staff = user.is_staff, staff
    return {"is_staff": [before, staff]}


def _requests_link() -> str:
    return reverse("accounts:role_requests")


def _confirmers(*, exclude: Iterable[int]) -> list[User]:
    """Who may confirm a grant (active holders of ``CONFIRM_POWER``), less the requester and the grantee."""
    app_label, codename = CONFIRM_POWER.split(".")
    holds = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label) | Q(
        user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
    )
    return list(
        User.objects.filter(holds | Q(is_superuser=True), is_active=True).exclude(pk__in=list(exclude)).distinct()
    )


def user_roles_change(
    *,
    actor,
    user: User,
    roles: Iterable[str],
    branch: Branch | None,
    is_active: bool,
    reason: str = "",
) -> RoleChangePlan:
    """Give ``user`` exactly ``roles``, ``branch`` and ``is_active``, under the two-person rule (module docstring).

    Removals, the roles outside the rule, the unit and the status change at once, with one ``user_roles_change``
    audit event listing the roles before → after by their Chinese names. Each new role under the rule becomes a
    pending request instead (``role_grant_request``, with ``reason``, which is then required), and those who may
    confirm it get an in-app notice; a role whose request already waits is not asked for twice. Returns what was
    done.
    """
    if not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied("no permission to manage roles")
    unknown = [code for code in roles if code not in RoleCode._value2member_map_]
    if unknown:
        raise ApplicationError("所选岗位无效，请刷新页面后重新选择。", extra={"field": "roles"})
    with transaction.atomic():
        # Another administrator may be saving the same account, or a confirmation adding a role to it: one at a time.
        user = User.objects.select_for_update().get(pk=user.pk)
        plan = user_role_change_plan(user=user, roles=roles, branch=branch, is_active=is_active)
        if user.pk == actor.pk and plan.is_active and not is_active:
            raise ApplicationError("不能停用自己的账户，请由另一位信息中心人员办理。", extra={"field": "is_active"})
        reason = _text(reason, what="申请理由", field="reason", required=bool(plan.requested))
        changes: dict = {}
        if plan.granted or plan.removed:
            changes["groups"] = [_labels(plan.roles_before), _labels(plan.roles_after)]
            if plan.removed:
                user.groups.remove(*_groups(plan.removed))
            if plan.granted:
                user.groups.add(*_groups(plan.granted))
            changes.update(_staff_follows_admin(user, plan.roles_after))
        if plan.branch:
            changes["branch"] = [str(b) if b else None for b in plan.branch]
            user.branch = branch
        if plan.is_active:
            changes["is_active"] = list(plan.is_active)
            user.is_active = is_active
        if changes:
            user.save(update_fields=["branch", "is_active", "is_staff"])
            record_event(
                actor=actor,
                verb="user_roles_change",
                target=user,
                summary=f"{_name(user)}：" + "".join(plan.lines_now()),
                changes=changes,
            )
        for code in plan.requested:
            _request_create(actor=actor, user=user, code=code, reason=reason)
    return plan


def _request_create(*, actor, user: User, code: RoleCode, reason: str) -> RoleGrantRequest:
    label = ROLES[code].label
    return _request_file(
        actor=actor,
        kind=_GRANT,
        user=user,
        reason=reason,
        fields={"role": code.value},
        conflict=ConflictError(f"授予{_name(user)}「{label}」的申请已在等待确认。", extra={"field": "roles"}),
        title=f"岗位授权待确认：{_name(actor)}申请授予{_name(user)}「{label}」",
    )


# --- the steps both requests of the two-person rule share ---------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """How one kind of request of the two-person rule speaks of what it asks; every step is otherwise shared."""

    model: type[SecondPersonRequest]
    verb_prefix: str  # its audit verbs are <verb_prefix>_request, _approve, _reject and _withdraw
    plural: str  # what a refused permission names
    done: Callable[[SecondPersonRequest], str]  # "授予张三「局领导」岗位" / "重置张三的密码" (``subject``: …张三密码)
    changes: Callable[[SecondPersonRequest], dict]  # what the audit events add about the request
    refusal: Callable[..., str]  # why an actor may not confirm (the selector, empty when they may)

    @property
    def verbs(self) -> tuple[str, ...]:
        return tuple(f"{self.verb_prefix}_{step}" for step in ("request", "approve", "reject", "withdraw"))


_GRANT = _Kind(
    model=RoleGrantRequest,
    verb_prefix="role_grant",
    plural="role grants",
    done=lambda grant: grant.subject,
    changes=lambda grant: {"role": grant.get_role_display()},
    refusal=lambda *, actor, pending: confirm_refusal(actor=actor, grant_request=pending),
)
_RESET = _Kind(
    model=PasswordResetRequest,
    verb_prefix="password_reset",
    plural="password resets",
    done=lambda reset: f"重置{reset.user}的密码",
    changes=lambda reset: {},
    refusal=lambda *, actor, pending: reset_confirm_refusal(actor=actor, reset_request=pending),
)
SECOND_PERSON_VERBS = (*_GRANT.verbs, *_RESET.verbs)
"""The audit verbs of the two-person rule's steps, written from ``verb_prefix`` (the audit log's label test reads
them here, since no ``verb="…"`` literal names them)."""
_KINDS = {kind.model: kind for kind in (_GRANT, _RESET)}
_VERB_OF_STATUS = {
    SecondPersonRequest.APPROVED: "approve",
    SecondPersonRequest.REJECTED: "reject",
    SecondPersonRequest.WITHDRAWN: "withdraw",
}


def _request_file(
    *, actor, kind: _Kind, user: User, reason: str, fields: dict, conflict: ConflictError, title: str
) -> SecondPersonRequest:
    """File a request for a second person: the row, its audit event, and an in-app notice to those who may
    confirm it (after commit). ``conflict`` is raised when the same request already waits."""
    try:
        with transaction.atomic():
            pending = kind.model.objects.create(user=user, reason=reason, requested_by=actor, **fields)
    except IntegrityError as exc:  # another administrator asked for the same a moment ago
        raise conflict from exc
    record_event(
        actor=actor,
        verb=f"{kind.verb_prefix}_request",
        target=pending,
        summary=f"申请{kind.done(pending)}，待另一位信息中心人员或局领导确认",
        changes={"user": _name(user), **kind.changes(pending), "reason": reason},
    )
    confirmers = _confirmers(exclude=(actor.pk, user.pk))
    link = _requests_link()
    transaction.on_commit(lambda: inbox_notify(users=confirmers, title=title, body=reason, link=link))
    return pending


def _decide(*, actor, pending: _Pending, status: str, note: str) -> tuple[_Pending, User]:
    """Claim the pending request (a role grant or a password reset) for ``status``, inside the caller's
    transaction; the request and its user, locked. A request another person decided a moment ago is refused."""
    model = type(pending)
    user = User.objects.select_for_update().get(pk=pending.user_id)
    claimed = model.objects.filter(pk=pending.pk, status="pending").update(
        status=status, decided_by=actor, decided_at=timezone.now(), decision_note=note
    )
    decided = model.objects.select_related("requested_by", "decided_by").get(pk=pending.pk)
    decided.user = user
    if not claimed:
        raise ConflictError(
            f"该申请已由{_name(decided.decided_by)}处理（{decided.get_status_display()}），请刷新页面。"
        )
    return decided, user


def _request_close(*, actor, kind: _Kind, pending: _Pending, status: str, note: str = "") -> tuple[_Pending, User]:
    """Decide ``pending`` (``_decide``) and write the audit event of the decision, inside the caller's transaction."""
    decided, user = _decide(actor=actor, pending=pending, status=status, note=note)
    if status == SecondPersonRequest.APPROVED:
        summary = f"确认{kind.done(decided)}（{_name(decided.requested_by)}申请）"
    elif status == SecondPersonRequest.REJECTED:
        summary = f"驳回{decided.subject}的申请：{note}"
    else:
        summary = f"撤回{decided.subject}的申请"
    record_event(
        actor=actor,
        verb=f"{kind.verb_prefix}_{_VERB_OF_STATUS[status]}",
        target=decided,
        summary=summary,
        changes={
            "status": [SecondPersonRequest.PENDING, status],
            **kind.changes(decided),
            **({"decision_note": note} if note else {}),
        },
    )
    return decided, user


def _check_confirmer(*, actor, kind: _Kind, pending: SecondPersonRequest) -> None:
    """确认 is for a holder of ``CONFIRM_POWER`` who is neither the requester nor the user (the two-person rule)."""
    if not actor.has_perm(CONFIRM_POWER):
        raise PermissionDenied(f"no permission to confirm {kind.plural}")
    refusal = kind.refusal(actor=actor, pending=pending)
    if refusal:
        raise ApplicationError(refusal)


def second_person_request_reject(*, actor, pending: _Pending, note: str) -> _Pending:
    """驳回: a confirmer refuses a pending role grant or password reset, with the reason; the requester gets an
    in-app notice. The requester withdraws instead (``second_person_request_withdraw``)."""
    kind = _KINDS[type(pending)]
    if not actor.has_perm(CONFIRM_POWER):
        raise PermissionDenied(f"no permission to decide {kind.plural}")
    if actor.pk == pending.requested_by_id:
        raise ApplicationError("这是您提出的申请，如不再需要请撤回。")
    note = _text(note, what="驳回理由", field="note", required=True)
    with transaction.atomic():
        decided, _user = _request_close(actor=actor, kind=kind, pending=pending, status=pending.REJECTED, note=note)
        _tell_requester(decided, f"已驳回：{kind.done(decided)}（{_name(actor)}：{note}）")
    return decided


def second_person_request_withdraw(*, actor, pending: _Pending) -> _Pending:
    """撤回: the requester takes back a role grant or a password reset that still waits."""
    if actor.pk != pending.requested_by_id:
        raise ApplicationError("只有申请人可以撤回该申请。")
    kind = _KINDS[type(pending)]
    with transaction.atomic():
        decided, _user = _request_close(actor=actor, kind=kind, pending=pending, status=pending.WITHDRAWN)
    return decided


def _tell_requester(decided: SecondPersonRequest, title: str) -> None:
    requester, link = decided.requested_by, reverse("accounts:user_detail", args=[decided.user_id])
    transaction.on_commit(lambda: inbox_notify(users=[requester], title=title, body=decided.decision_note, link=link))


# --- role grants ---------------------------------------------------------------------------------------------------


def role_grant_approve(*, actor, grant_request: RoleGrantRequest) -> RoleGrantRequest:
    """确认授予: a second person confirms a pending grant and the role takes effect.

    Refused when ``actor`` may not confirm grants, asked for it, or would receive the role (the two-person rule;
    the database refuses it too), and when the user has been deactivated meanwhile. Writes ``role_grant_approve``
    on the request and ``user_roles_change`` on the account; the requester gets an in-app notice.
    """
    _check_confirmer(actor=actor, kind=_GRANT, pending=grant_request)
    code = RoleCode(grant_request.role)
    label = ROLES[code].label
    with transaction.atomic():
        grant, user = _request_close(actor=actor, kind=_GRANT, pending=grant_request, status=grant_request.APPROVED)
        if not user.is_active:
            raise ApplicationError(f"{_name(user)}的账户已停用，不能授予岗位；请先启用账户，或驳回该申请。")
        before = [c for c in ROLES if c in user.role_codes]
        after = [c for c in ROLES if c in {*before, code}]
        user.groups.add(*_groups([code]))
        staff = _staff_follows_admin(user, after)
        if staff:
            user.save(update_fields=["is_staff"])
        record_event(
            actor=actor,
            verb="user_roles_change",
            target=user,
            summary=f"{_name(user)}：经{_name(actor)}确认，授予岗位「{label}」（{_name(grant.requested_by)}申请）。",
            changes={"groups": [_labels(before), _labels(after)], **staff},
        )
        _tell_requester(grant, f"已确认：授予{_name(user)}「{label}」岗位（{_name(actor)}确认）")
    return grant


# --- passwords ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordReset:
    """What ``user_password_reset`` or ``password_reset_approve`` did: the request when the reset waits for a second
    person, else the temporary password, for the caller to show once and forget (never stored, never logged)."""

    user: User
    request: PasswordResetRequest | None = None
    temporary_password: str = field(default="", repr=False)

    @property
    def pending(self) -> bool:
        return not self.temporary_password


def _revoke_api_tokens(user: User) -> int:
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


@sensitive_variables("password")
def _password_set_temporary(*, actor, user: User, summary: str, reason: str) -> str:
    """Give the locked ``user`` a temporary password to change at the next sign-in; audited without it."""
    password = temporary_password(user)
    before = user.must_change_password
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    record_event(
        actor=actor,
        verb="user_password_reset",
        target=user,
        summary=summary,
        changes={
            "must_change_password": [before, True],
            "api_tokens_revoked": _revoke_api_tokens(user),
            "reason": reason,
        },
    )
    return password


@sensitive_variables("password")
def user_password_reset(*, actor, user: User, reason: str) -> PasswordReset:
    """重置密码: give ``user`` a temporary password, at once or through a second person (module docstring).

    Refused without ``accounts.manage_roles`` and for one's own account. ``reason`` is required. A user under the
    two-person rule gets a pending request instead (``password_reset_request``; those who may confirm get an in-app
    notice); anyone else's password is reset at once (``user_password_reset``) and the temporary password returned.
    """
    if not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied("no permission to reset passwords")
    if user.pk == actor.pk:
        raise ApplicationError("不能重置自己的密码，请使用右上角的“修改密码”。")
    reason = _text(reason, what="重置理由", field="reason", required=True)
    with transaction.atomic():
        # A role grant being confirmed for this user takes the same lock: the rule is judged on the roles held now.
        user = User.objects.select_for_update().get(pk=user.pk)
        if reset_needs_second_person(user):
            return PasswordReset(user=user, request=_reset_request_create(actor=actor, user=user, reason=reason))
        password = _password_set_temporary(
            actor=actor,
            user=user,
            reason=reason,
            summary=f"重置{_name(user)}的密码（{reason}）：已生成临时密码，须在下次登录时修改。",
        )
    return PasswordReset(user=user, temporary_password=password)


def _reset_request_create(*, actor, user: User, reason: str) -> PasswordResetRequest:
    return _request_file(
        actor=actor,
        kind=_RESET,
        user=user,
        reason=reason,
        fields={},
        conflict=ConflictError(f"重置{_name(user)}密码的申请已在等待确认。", extra={"field": "reason"}),
        title=f"密码重置待确认：{_name(actor)}申请重置{_name(user)}的密码",
    )


@sensitive_variables("password")
def password_reset_approve(*, actor, reset_request: PasswordResetRequest) -> PasswordReset:
    """确认重置: a second person confirms a pending reset; the temporary password is returned to them alone.

    Refused when ``actor`` may not confirm, asked for it, or is the user (the database refuses it too). Writes
    ``password_reset_approve`` on the request and ``user_password_reset`` on the account; the requester is told
    that it was done, without the password.
    """
    _check_confirmer(actor=actor, kind=_RESET, pending=reset_request)
    with transaction.atomic():
        reset, user = _request_close(actor=actor, kind=_RESET, pending=reset_request, status=reset_request.APPROVED)
        password = _password_set_temporary(
            actor=actor,
            user=user,
            reason=reset.reason,
            summary=f"经{_name(actor)}确认，重置{_name(user)}的密码（{_name(reset.requested_by)}申请：{reset.reason}）："
            "已生成临时密码，须在下次登录时修改。",
        )
        _tell_requester(reset, f"已确认：重置{_name(user)}的密码（{_name(actor)}确认，临时密码已交确认人）")
    return PasswordReset(user=user, request=reset, temporary_password=password)


@sensitive_variables("new_password")
def user_password_change(*, actor, new_password: str) -> User:
    """修改密码: ``actor`` sets their own password (the form has checked the current one).

    Clears ``must_change_password``, revokes the API tokens and writes ``password_change`` (without the password).
    The caller keeps the current session with ``update_session_auth_hash``; the others end.
    """
    password_validation.validate_password(new_password, actor)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        before = user.must_change_password
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        changes: dict = {"api_tokens_revoked": _revoke_api_tokens(user)}
        if before:
            changes = {"must_change_password": [True, False], **changes}
        record_event(
            actor=actor,
            verb="password_change",
            target=user,
            summary="修改本人密码" + ("（替换临时密码）" if before else ""),
            changes=changes,
        )
    return user
