"""Reads of 用户与岗位: the users an administrator manages, their pending role grants and password resets, what a
change of roles will do (before it is saved) and each user's history of changes."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Case, F, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from core.listing import sort_order

from .filters import UserRoleFilter
from .models import AuditEvent, Branch, PasswordResetRequest, RoleGrantRequest, SecondPersonRequest, User
from .roles import CONFIRM_POWER, ROLES, RoleCode, needs_second_person
from .scoping import scope_to_user

MANAGE_PERMISSION = "accounts.manage_roles"
VIEW_REQUESTS_PERMISSION = "accounts.view_rolegrantrequest"
VIEW_RESETS_PERMISSION = "accounts.view_passwordresetrequest"

USER_COLUMNS = {
    "name": "姓名",
    "username": "用户名",
    "branch": "所属机构",
    "active": "账户状态",
    "last_login": "最近登录",
}
"""The user list's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
USER_SORT_FIELDS = {
    "name": ("full_name", "username"),
    "username": ("username",),
    "branch": ("branch__sort_order", "branch__code"),
    "active": ("is_active",),
    "last_login": ("last_login",),
}
USER_SORT = "branch"


def _pending_requests() -> Prefetch:
    return Prefetch(
        "role_grant_requests",
        queryset=RoleGrantRequest.objects.filter(status=RoleGrantRequest.Status.PENDING)
        .select_related("requested_by")
        .order_by("requested_at"),
        to_attr="pending_grants",
    )


def _managed_users(user) -> QuerySet[User]:
    """Every account ``user`` may manage (none without ``accounts.manage_roles``); the information centre works
    across the bureau, and the gateway would limit a future branch-level manager to its own branches."""
    queryset = User.objects.select_related("branch").prefetch_related("groups", _pending_requests())
    if not user.has_perm(MANAGE_PERMISSION):
        return queryset.none()
    return scope_to_user(queryset, user=user, branch_field="branch")


def user_filterset(*, user, filters: Mapping | None) -> UserRoleFilter:
    """The bound filter set of 用户与岗位 over the accounts ``user`` may manage, sorted by the URL's column."""
    order = sort_order((filters or {}).get("sort"), USER_SORT_FIELDS, default=USER_SORT, then=("full_name", "username"))
    queryset = _managed_users(user).order_by(*order)
    return UserRoleFilter(data=filters or {}, queryset=queryset)


def user_get_for_manager(*, user, pk: int) -> User:
    """One account for its role page; 404 outside what ``user`` may manage."""
    try:
        return _managed_users(user).get(pk=pk)
    except User.DoesNotExist as exc:
        raise Http404("no such user for this manager") from exc


def pending_grant_count(*, user) -> int:
    """How many role grants wait for a second person (the banner of the user list)."""
    if not user.has_perm(VIEW_REQUESTS_PERMISSION):
        return 0
    return RoleGrantRequest.objects.filter(status=RoleGrantRequest.Status.PENDING).count()


def _requests_for_user(model: type[SecondPersonRequest], *, user, permission: str, status: str) -> QuerySet:
    """The requests of the two-person rule of one kind that ``user`` may read (none without ``permission``),
    waiting ones first, then the newest decisions; ``status`` filters when it is one of the states."""
    queryset = model.objects.select_related("user", "user__branch", "requested_by", "decided_by")
    if not user.has_perm(permission):
        return queryset.none()
    if status in model.Status.values:
        queryset = queryset.filter(status=status)
    pending_first = Case(When(status=model.PENDING, then=Value(0)), default=Value(1))
    return queryset.order_by(pending_first, F("decided_at").desc(nulls_first=True), "-requested_at", "-pk")


def role_grant_requests_for_user(*, user, status: str = "") -> QuerySet[RoleGrantRequest]:
    """The role-grant requests ``user`` may read, waiting ones first, then the newest decisions."""
    return _requests_for_user(RoleGrantRequest, user=user, permission=VIEW_REQUESTS_PERMISSION, status=status)


def _request_get(requests: QuerySet, pk: int):
    """One of ``requests`` (those the user may read); 404 for any other."""
    try:
        return requests.get(pk=pk)
    except requests.model.DoesNotExist as exc:
        raise Http404(f"no such {requests.model.__name__}") from exc


def role_grant_request_get_for_user(*, user, pk: int) -> RoleGrantRequest:
    return _request_get(role_grant_requests_for_user(user=user), pk)


def _second_person_refusal(*, actor, pending, what: str, own: str) -> str:
    """Why ``actor`` may not confirm the request ``pending`` of the two-person rule (empty when they may)."""
    if pending.status != "pending":
        return f"该申请{pending.get_status_display()}，不能再确认。"
    if not actor.has_perm(CONFIRM_POWER):
        return f"只有信息中心或局领导可以确认{what}。"
    if actor.pk == pending.requested_by_id:
        return "这是您提出的申请，须由另一位信息中心人员或局领导确认。"
    if actor.pk == pending.user_id:
        return f"{own}，须由另一位信息中心人员或局领导确认。"
    return ""


def confirm_refusal(*, actor, grant_request: RoleGrantRequest) -> str:
    """Why ``actor`` may not confirm ``grant_request`` (empty when they may): the two-person rule in words."""
    return _second_person_refusal(actor=actor, pending=grant_request, what="岗位授权", own="这是授予您本人的岗位")


def reset_confirm_refusal(*, actor, reset_request: PasswordResetRequest) -> str:
    """Why ``actor`` may not confirm ``reset_request`` (empty when they may): the same rule as for grants."""
    return _second_person_refusal(actor=actor, pending=reset_request, what="密码重置", own="这是重置您本人密码的申请")


def reset_needs_second_person(user: User) -> bool:
    """Whether resetting ``user``'s password must be confirmed by a second person.

    It must when the user holds a role that could not be granted without one (``needs_second_person``, the very
    test of role grants) or is a superuser, who holds every power: whoever sets the password can sign in as them.
    """
    return user.is_superuser or any(needs_second_person(code) for code in user.role_codes)


def password_reset_requests_for_user(*, user, status: str = "") -> QuerySet[PasswordResetRequest]:
    """The password-reset requests ``user`` may read, waiting ones first, then the newest decisions."""
    return _requests_for_user(PasswordResetRequest, user=user, permission=VIEW_RESETS_PERMISSION, status=status)


def password_reset_request_get_for_user(*, user, pk: int) -> PasswordResetRequest:
    return _request_get(password_reset_requests_for_user(user=user), pk)


def pending_password_reset(*, target: User) -> PasswordResetRequest | None:
    """The reset of ``target``'s password that waits for a second person, if any (at most one)."""
    return (
        PasswordResetRequest.objects.filter(user=target, status=PasswordResetRequest.Status.PENDING)
        .select_related("requested_by")
        .first()
    )


def user_history(*, target: User, limit: int = 50) -> list[AuditEvent]:
    """The audit events of ``target``'s account and of its role-grant and password-reset requests, newest first."""
    grant_ids = [str(pk) for pk in RoleGrantRequest.objects.filter(user=target).values_list("pk", flat=True)]
    reset_ids = [str(pk) for pk in PasswordResetRequest.objects.filter(user=target).values_list("pk", flat=True)]
    events = AuditEvent.objects.filter(
        Q(object_type="accounts.user", object_id=str(target.pk))
        | Q(object_type="accounts.rolegrantrequest", object_id__in=grant_ids)
        | Q(object_type="accounts.passwordresetrequest", object_id__in=reset_ids)
    )
    return list(events.select_related("actor").order_by("-created_at", "-id")[:limit])


def branch_choices() -> QuerySet[Branch]:
    return Branch.objects.all()


# --- what a change of roles will do ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleChangePlan:
    """What saving a user's roles, unit and status will do; the page shows it for confirmation and the service
    carries it out (``accounts.services.user_roles_change``)."""

    granted: tuple[RoleCode, ...] = ()  # take effect at once
    requested: tuple[RoleCode, ...] = ()  # wait for a second person (two-person rule)
    already_pending: tuple[RoleCode, ...] = ()  # asked for again while a request waits: nothing new
    removed: tuple[RoleCode, ...] = ()  # take effect at once
    branch: tuple[Branch | None, Branch | None] | None = None  # (before, after) when it changes
    is_active: tuple[bool, bool] | None = None
    roles_before: tuple[RoleCode, ...] = field(default=())

    @property
    def roles_after(self) -> tuple[RoleCode, ...]:
        """The roles held once the change is saved, before any confirmation, in the order of ``ROLES``."""
        held = (set(self.roles_before) | set(self.granted)) - set(self.removed)
        return tuple(code for code in ROLES if code in held)

    @property
    def changes_now(self) -> bool:
        return bool(self.granted or self.removed or self.branch or self.is_active)

    @property
    def has_changes(self) -> bool:
        return self.changes_now or bool(self.requested)

    def lines(self) -> list[str]:
        """The plan in the words of the confirmation panel, one sentence per kind of change."""
        lines = self.lines_now()
        if self.requested:
            lines.insert(
                len(self.lines_now(roles_only=True)),
                f"提出授权申请：{role_labels(self.requested)}。这些岗位含审批、退库或确认授权的权限，"
                "须由另一位信息中心人员或局领导确认后才生效，在此之前用户不具有这些权限。",
            )
        if self.already_pending:
            lines.append(f"{role_labels(self.already_pending)}的授权申请已在等待确认，不再重复提出。")
        return lines

    def lines_now(self, *, roles_only: bool = False) -> list[str]:
        """What takes effect at once, in words (the audit event's summary)."""
        lines = []
        if self.granted:
            lines.append(f"立即授予岗位：{role_labels(self.granted)}。")
        if self.removed:
            lines.append(f"立即取消岗位：{role_labels(self.removed)}。")
        if roles_only:
            return lines
        if self.branch:
            before, after = self.branch
            lines.append(f"所属机构：{before or '（无）'} → {after or '（无）'}。")
        if self.is_active:
            lines.append("启用账户。" if self.is_active[1] else "停用账户：该用户将不能登录，已登录的会话随即失效。")
        return lines


def role_labels(codes: Iterable[RoleCode | str]) -> str:
    return "、".join(f"「{ROLES[RoleCode(code)].label}」" for code in codes) or "（无）"


def user_role_change_plan(
    *, user: User, roles: Iterable[str], branch: Branch | None, is_active: bool
) -> RoleChangePlan:
    """What giving ``user`` exactly ``roles``, ``branch`` and ``is_active`` will do, under the two-person rule.

    A role of ``needs_second_person`` not yet held becomes a request for a second person; any other new role is
    granted and any role left out is removed, at once.
    """
    wanted = {RoleCode(code) for code in roles}
    before = {code for code in RoleCode if code.value in {g.name for g in user.groups.all()}}
    new = _in_role_order(wanted - before)
    asked = [code for code in new if needs_second_person(code)]
    pending = _pending_roles(user)
    return RoleChangePlan(
        granted=tuple(code for code in new if not needs_second_person(code)),
        requested=tuple(code for code in asked if code not in pending),
        already_pending=tuple(code for code in asked if code in pending),
        removed=_in_role_order(before - wanted),
        branch=_branch_change(user, branch),
        is_active=(user.is_active, is_active) if user.is_active != is_active else None,
        roles_before=_in_role_order(before),
    )


def _in_role_order(codes: set[RoleCode]) -> tuple[RoleCode, ...]:
    return tuple(code for code in ROLES if code in codes)


def _pending_roles(user: User) -> set[RoleCode]:
    """The roles of ``user``'s grants that wait for a second person (from the prefetch of ``_managed_users``)."""
    return {RoleCode(r.role) for r in user.role_grant_requests.all() if r.status == RoleGrantRequest.Status.PENDING}


def _branch_change(user: User, branch: Branch | None) -> tuple[Branch | None, Branch | None] | None:
    """``(before, after)`` when ``user`` would move to another unit (or to none), else None."""
    return (user.branch, branch) if user.branch_id != (branch.pk if branch else None) else None
