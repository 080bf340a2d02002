from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q

from .roles import ROLES, RoleCode


class Branch(models.Model):
    """An organisational unit of the bureau: the bureau itself (局), a section (股室) or a branch (税源管理分局).

    Taxpayers are managed by branches; officers belong to a section or a branch.
    """

    class Kind(models.TextChoices):
        BUREAU = "bureau", "局"
        SECTION = "section", "股室"
        BRANCH = "branch", "分局"

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    parent = models.ForeignKey("self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "机构"
        verbose_name_plural = "机构"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of the bureau's staff. Roles are groups (see ``accounts.roles``)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    branch = models.ForeignKey(Branch, verbose_name="所属机构", null=True, blank=True, on_delete=models.PROTECT)
    mobile = models.CharField("手机号码", max_length=11, blank=True)
    must_change_password = models.BooleanField(
        "须修改密码",
        default=False,
        help_text="密码被重置为临时密码后为是：登录后须先修改密码才能使用系统。",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def role_codes(self) -> set[RoleCode]:
        if not hasattr(self, "_role_codes"):
            names = {g.name for g in self.groups.all()}
            self._role_codes = {code for code in RoleCode if code.value in names}
        return self._role_codes

    @property
    def role_labels(self) -> list[str]:
        return [ROLES[code].label for code in RoleCode if code in self.role_codes]

    def has_role(self, *codes: RoleCode) -> bool:
        return bool(self.role_codes.intersection(codes))


class AuditEvent(models.Model):
    """One state change or sensitive read (an export, a full phone number shown), written in the
    same transaction as the change it records."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT
    )
    verb = models.CharField("操作", max_length=50, db_index=True)
    object_type = models.CharField("对象类型", max_length=100, blank=True, db_index=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    summary = models.CharField("摘要", max_length=500, blank=True)
    changes = models.JSONField("变更字段", default=dict, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [models.CheckConstraint(condition=~Q(verb=""), name="audit_verb_not_empty")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.verb} {self.object_repr}"


class SecondPersonRequest(models.Model):
    """A change that waits for a second person (双人确认): a role grant or a password reset under the two-person rule.

    What the two requests share: who asked, why and when; the state (待确认 → 已确认 / 已驳回 / 已撤回) with who
    decided, when and the note. Each concrete request adds the user it is about (with its own reverse name), its
    ``Status`` (``second_person_statuses``: the wording of 已确认 differs) and the constraints of
    ``two_person_constraints``.
    """

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    reason = models.CharField("申请理由", max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decision_note = models.CharField("处理意见", max_length=500, blank=True)

    class Meta:
        abstract = True
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    @property
    def is_pending(self) -> bool:
        return self.status == self.PENDING

    @property
    def subject(self) -> str:
        """What is asked, in the words "…的申请" completes: 授予张三「局领导」岗位, 重置张三密码."""
        raise NotImplementedError


def signed_in(actor) -> "User | None":
    """The officer behind an action, or None when the scheduler or a command acted (None or an anonymous user):
    what a ``created_by``/``officer`` column and the outbox record."""
    return actor if getattr(actor, "is_authenticated", False) else None


def second_person_statuses(approved: str) -> type[models.TextChoices]:
    """The states of a request of the two-person rule; only the words of 已确认 differ between kinds."""
    R = SecondPersonRequest
    states = {"PENDING": "待确认", "APPROVED": approved, "REJECTED": "已驳回", "WITHDRAWN": "已撤回"}
    return models.TextChoices("Status", [(name, (getattr(R, name), label)) for name, label in states.items()])


def _status_field(status: type[models.TextChoices]) -> models.CharField:
    return models.CharField("状态", max_length=10, choices=status.choices, default=status.PENDING)


def two_person_constraints(prefix: str) -> list[models.BaseConstraint]:
    """The database's part of the two-person rule, named ``<prefix>_…``: a decision has its decider and time, and
    whoever confirms is neither the requester nor the user the request is about."""
    return [
        models.CheckConstraint(
            condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
            | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
            name=f"{prefix}_decided_when_not_pending",
        ),
        models.CheckConstraint(
            condition=~Q(status="approved") | (~Q(decided_by=F("requested_by")) & ~Q(decided_by=F("user"))),
            name=f"{prefix}_confirmed_by_second_person",
        ),
    ]


class RoleGrantRequest(SecondPersonRequest):
    """A request to grant a role of the two-person rule (岗位授权申请, ``accounts.roles.needs_second_person``).

    The grant takes effect only when a second person confirms it: another administrator or a supervisor, never
    the one who asked nor the user who would receive the role. The database holds one pending request per user
    and role, and refuses a confirmation by the requester or by the grantee.
    """

    Status = second_person_statuses(approved="已确认授予")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.PROTECT, related_name="role_grant_requests"
    )
    role = models.CharField("岗位", max_length=30, choices=[(code.value, role.label) for code, role in ROLES.items()])
    status = _status_field(Status)

    class Meta(SecondPersonRequest.Meta):
        verbose_name = "岗位授权申请"
        verbose_name_plural = "岗位授权申请"
        permissions = [
            ("manage_roles", "管理用户与岗位"),
            ("decide_rolegrantrequest", "确认或驳回岗位授权申请"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(status="pending"), name="role_grant_one_pending_per_user_role"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[code.value for code in RoleCode]), name="role_grant_role_known"
            ),
            *two_person_constraints("role_grant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    @property
    def subject(self) -> str:
        return f"授予{self.user}「{self.get_role_display()}」岗位"


class PasswordResetRequest(SecondPersonRequest):
    """A request to reset the password of a user under the two-person rule (密码重置申请, accounts/services.py).

    Whoever knows a password can sign in as its holder, so resetting the password of someone who may approve
    refunds, record treasury payments or confirm grants is itself a grant of those powers: it takes effect only
    when a second person confirms it, who alone sees the temporary password. Nobody asks for their own reset (they
    change their password themselves), and the database refuses a confirmation by the requester or by the user.
    """

    Status = second_person_statuses(approved="已确认重置")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.PROTECT, related_name="password_reset_requests"
    )
    status = _status_field(Status)

    class Meta(SecondPersonRequest.Meta):
        verbose_name = "密码重置申请"
        verbose_name_plural = "密码重置申请"
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="password_reset_one_pending_per_user"
            ),
            models.CheckConstraint(condition=~Q(requested_by=F("user")), name="password_reset_not_own"),
            *two_person_constraints("password_reset"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · 重置密码"

    @property
    def subject(self) -> str:
        return f"重置{self.user}密码"


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the heartbeat task that beat sends every minute.

    ``/health/`` reads it: a recent row proves that beat and at least one worker both run,
    on Redis and on the demo's filesystem broker alike (a broker ping would prove neither).
    """

    name = models.CharField("名称", max_length=100, unique=True)
    seen_at = models.DateTimeField("最近心跳时间")

    class Meta:
        verbose_name = "后台任务心跳"
        verbose_name_plural = "后台任务心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.seen_at:%Y-%m-%d %H:%M:%S}"
