"""留抵退税申请: applications from arrival to payment, their status changes, risk findings and coaching records."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField, period_format_check
from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer


class RefundApplication(models.Model):
    """留抵退税申请: one taxpayer's application for one application period, from arrival to payment.

    Arrives by xlsx import of the core system's export, by the API or by an officer's entry, pre-filled with
    the rules' figures for its period (一键确认: the officer confirms them or corrects them with a reason).
    The state only moves through ``refund.applications.services`` (a conditional UPDATE on the expected
    state, so two officers acting at once cannot both win); each move writes an ``ApplicationTransition``.
    """

    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", "增量留抵退税"
        STOCK = "stock", "存量留抵退税"
        BOTH = "both", "增量和存量留抵退税"

    class State(models.TextChoices):
        RECEIVED = "received", "已受理"
        INVESTIGATING = "investigating", "调查核实"
        REVIEWING = "reviewing", "审核中"
        APPROVED = "approved", "已审批"
        PARTLY_PAID = "partly_paid", "部分退库"
        PAID = "paid", "已退库"
        RETURNED = "returned", "已回退"
        REJECTED = "rejected", "不予退税"
        STOPPED = "stopped", "已终止退税"

    class Source(models.TextChoices):
        IMPORT = "import", "核心征管系统导入"
        API = "api", "接口推送"
        MANUAL = "manual", "人工录入"

    class Risk(models.TextChoices):
        UNCHECKED = "unchecked", "未扫描"
        CLEAR = "clear", "无风险"
        HIT = "hit", "有疑点"

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="refund_applications"
    )
    # Copied from the taxpayer on arrival: the queue is scoped and filtered by it without a join.
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name="主管税务机关", on_delete=models.PROTECT, related_name="refund_applications"
    )
    application_period = PeriodField("申请退税所属期", help_text="YYYY-MM")
    kind = models.CharField("退税类型", max_length=12, choices=Kind.choices)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.MANUAL)
    document_number = models.CharField(
        "申请文书号", max_length=40, null=True, blank=True, unique=True, help_text="核心征管系统的受理文书号"
    )
    received_on = models.DateField("受理日期")
    received_at = models.DateTimeField("登记时间", auto_now_add=True)
    due_on = models.DateField("办结期限", help_text="受理之日起 10 个工作日")
    claimed_amount = MoneyField("申请退税额")
    credit_level_at_submission = models.CharField("申请时纳税信用级别", max_length=2, blank=True)

    # The rules' figures at arrival (or the latest recomputation) and the inputs they came from.
    regime = models.CharField("适用政策", max_length=40, blank=True)
    size = models.CharField("企业规模", max_length=10, blank=True)
    industry_code = models.CharField("行业代码", max_length=5, blank=True)
    computed_eligible = models.BooleanField("规则判定符合", null=True)
    computed_amount = MoneyField("规则计算可退税额", null=True, blank=True)
    computed_incremental = MoneyField("其中：增量", null=True, blank=True)
    computed_stock = MoneyField("其中：存量", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间", null=True, blank=True)
    inputs_snapshot = models.JSONField("计算依据（快照）", default=dict, blank=True)
    result_snapshot = models.JSONField("计算结果（快照）", default=dict, blank=True)

    # 一键确认: what the officer confirmed (the computed figures, or a correction with its reason).
    confirmed_amount = MoneyField("确认退税额", null=True, blank=True)
    confirmed_incremental = MoneyField("确认增量退税额", null=True, blank=True)
    confirmed_stock = MoneyField("确认存量退税额", null=True, blank=True)
    correction_reason = models.CharField("更正原因", max_length=500, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)

    state = models.CharField("状态", max_length=14, choices=State.choices, default=State.RECEIVED)
    state_changed_at = models.DateTimeField("状态变更时间", auto_now_add=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_refund_applications",
    )
    risk_status = models.CharField("风险扫描", max_length=10, choices=Risk.choices, default=Risk.UNCHECKED)
    risk_checked_at = models.DateTimeField("风险扫描时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    # 局领导签批: above the bureau's threshold (SignOffThreshold) an approval needs this first; a new 一键确认
    # clears it (the amount signed for may have changed).
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签批人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    signed_off_at = models.DateTimeField("签批时间", null=True, blank=True)
    sign_off_opinion = models.CharField("签批意见", max_length=500, blank=True)
    decision_reason = models.CharField("回退或不予退税原因", max_length=500, blank=True)

    # The sums of the treasury's payments so far (ledger.services; several when the treasury pays in parts, 部分退库)
    # and the date of the latest; read back by the rules as previous_refunds.
    paid_on = models.DateField("退库日期", null=True, blank=True)
    paid_amount = MoneyField("实际退税额", null=True, blank=True)
    paid_incremental = MoneyField("其中：增量", null=True, blank=True)
    paid_stock = MoneyField("其中：存量", null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "留抵退税申请"
        verbose_name_plural = "留抵退税申请"
        ordering = ["received_on", "id"]
        permissions = [
            ("review_refundapplication", "调查核实、确认与回退留抵退税申请"),
            ("approve_refundapplication", "审批留抵退税申请"),
            ("sign_off_refundapplication", "签批大额留抵退税申请"),
            ("export_refundapplication", "导出留抵退税申请"),
            ("stop_refundapplication", "终止退税"),
            ("adjust_refundapplication", "调整确认退税额"),
        ]
        indexes = [
            # The queue: a branch's (or everyone's) open applications, oldest first.
            models.Index(fields=["state", "received_on", "id"], name="refund_app_queue"),
            models.Index(fields=["branch", "state", "received_on", "id"], name="refund_app_branch_queue"),
            models.Index(fields=["assigned_to", "state", "received_on"], name="refund_app_assignee"),
            models.Index(fields=["taxpayer", "application_period"], name="refund_app_taxpayer_period"),
        ]
        constraints = [
            period_format_check("application_period", name="refund_app_period_format"),
            # One live application per taxpayer and period; a rejected one does not block a new application.
            models.UniqueConstraint(
                fields=["taxpayer", "application_period"],
                condition=~Q(state="rejected"),
                name="refund_app_one_live_per_period",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "partly_paid", "paid"])
                | (Q(approved_at__isnull=False) & Q(confirmed_amount__isnull=False)),
                name="refund_app_approved_has_approval",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["partly_paid", "paid"])
                | (Q(paid_on__isnull=False) & Q(paid_amount__isnull=False)),
                name="refund_app_paid_has_payment",
            ),
            models.CheckConstraint(condition=Q(claimed_amount__gte=0), name="refund_app_claim_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.application_period} {self.taxpayer.name if self.taxpayer_id else ''}留抵退税申请"

    @property
    def unpaid_amount(self) -> Decimal | None:
        """待退库金额: the confirmed amount less what the treasury has paid so far (None before confirmation)."""
        if self.confirmed_amount is None:
            return None
        return self.confirmed_amount - (self.paid_amount or 0)

    @property
    def unpaid_incremental(self) -> Decimal | None:
        if self.confirmed_incremental is None:
            return None
        return self.confirmed_incremental - (self.paid_incremental or 0)

    @property
    def unpaid_stock(self) -> Decimal | None:
        if self.confirmed_stock is None:
            return None
        return self.confirmed_stock - (self.paid_stock or 0)


# States in which the treasury has paid some or all of the application: a refund obtained (取得退税) for the rules.
PAID_STATES = (RefundApplication.State.PARTLY_PAID, RefundApplication.State.PAID)
# States in which a refund may have been obtained (取得退税) for the rules' previous refunds: the paid ones, and a
# stopped one (终止退税) when the treasury had paid part of it before the stop — its sums paid say how much.
REFUND_OBTAINED_STATES = (*PAID_STATES, RefundApplication.State.STOPPED)
# Approved and not yet paid in full: 待退库.
UNPAID_STATES = (RefundApplication.State.APPROVED, RefundApplication.State.PARTLY_PAID)

OPEN_APPLICATION_STATES = (
    RefundApplication.State.RECEIVED,
    RefundApplication.State.INVESTIGATING,
    RefundApplication.State.REVIEWING,
    RefundApplication.State.RETURNED,
)


class ApplicationTransition(models.Model):
    """An application's status change (流转记录): who moved it, from what to what, why, with what evidence."""

    application = models.ForeignKey(
        RefundApplication, verbose_name="申请", on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField("原状态", max_length=14, choices=RefundApplication.State.choices, blank=True)
    to_state = models.CharField("新状态", max_length=14, choices=RefundApplication.State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("原因或说明", max_length=500, blank=True)
    evidence = models.JSONField("依据", default=dict, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "申请流转记录"
        verbose_name_plural = "申请流转记录"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["application", "created_at"], name="refund_app_transition_app")]

    def __str__(self) -> str:
        return f"{self.get_from_state_display() or '—'} → {self.get_to_state_display()}"


class ApplicationRiskHit(models.Model):
    """A risk gate finding (疑点) on an application, with the evidence an officer needs to verify it."""

    class Stage(models.TextChoices):
        ARRIVAL = "arrival", "受理时扫描"
        APPROVAL = "approval", "审批前复核"

    application = models.ForeignKey(
        RefundApplication, verbose_name="申请", on_delete=models.CASCADE, related_name="risk_hits"
    )
    stage = models.CharField("环节", max_length=10, choices=Stage.choices)
    code = models.CharField("疑点代码", max_length=40)
    title = models.CharField("疑点", max_length=200)
    evidence = models.JSONField("依据", default=dict, blank=True)
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    resolved_at = models.DateTimeField("核实时间", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="核实人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.CharField("核实结论", max_length=500, blank=True)

    class Meta:
        verbose_name = "申请风险疑点"
        verbose_name_plural = "申请风险疑点"
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return self.title


class CoachingRecord(models.Model):
    """一对一辅导: an officer's coaching of a taxpayer about its refund, on its own or on an application."""

    class Topic(models.TextChoices):
        FILING = "filing", "申报"
        KIND = "kind", "增量/存量留抵退税"
        INPUT_RATIO = "input_ratio", "进项构成比例"
        AMOUNT = "amount", "应退税额"
        FORM = "form", "申请表填写"

    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        RefundApplication, verbose_name="申请", null=True, blank=True, on_delete=models.CASCADE,
        related_name="coachings",
    )
    topic = models.CharField("辅导主题", max_length=12, choices=Topic.choices)
    notes = models.TextField("辅导情况", blank=True)
    coached_on = models.DateField("辅导日期")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="辅导人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "退税辅导记录"
        verbose_name_plural = "退税辅导记录"
        ordering = ["-coached_on", "-id"]
        indexes = [models.Index(fields=["taxpayer", "coached_on"], name="refund_coaching_taxpayer")]

    def __str__(self) -> str:
        return f"{self.coached_on.isoformat()} {self.get_topic_display()}"



class SignOffThreshold(models.Model):
    """大额退税签批标准: above this confirmed amount the approval (审批) of a refund needs a supervisor's sign-off
    (局领导签批) first — separation of duties on the large refunds. Set by the bureau, one row per change; the row
    in force on the approval day counts, so the history shows what applied when."""

    amount = MoneyField("签批金额标准（元）", help_text="确认退税额超过此金额的申请，须经局领导签批后方可审批")
    effective_from = models.DateField("生效日期", unique=True)
    reason = models.CharField("调整原因", max_length=200)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="设置人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "大额退税签批标准"
        verbose_name_plural = "大额退税签批标准"
        ordering = ["-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="sign_off_threshold_positive")]

    def __str__(self) -> str:
        return f"{self.effective_from} {self.amount}"
