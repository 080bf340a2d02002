"""纳税信用修复、复核、复评 cases: the taxpayer's application, its review by a credit officer, disputed deductions
raised to the higher bureau, and the decision that adds a rating row.

The office finishes a case within 15 working days of accepting it (国家税务总局公告2019年第37号; 2021年第31号;
2025年第12号 第二十四条; 复评 2015年第46号). The state only moves through ``credit.repairs.services`` under a row
lock; each move writes a ``CreditCaseTransition`` and an audit event. ``NonNormalSpell`` keeps the times the registry
showed a taxpayer as 非正常户, so that a lifting can be repaired without application where the rules say so.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from taxpayers.models import CreditLevel, Taxpayer

from .records import CreditRating, DishonestyEvent

BAND_LABELS = {  # the repair bands of credit.rules, as officers read them
    "within_3_days": "3日内纠正",
    "within_30_days": "30日内纠正",
    "within_90_days": "30日后90日内纠正",
    "after_90_days": "90日后纠正",
    "after_30_days_same_year": "30日后本年纠正",
    "after_30_days_next_year": "30日后次年纠正",
    "too_late": "超过修复期限",
    "not_repairable": "不可修复",
    "already_counted": "同月已计扣分",
    "removed": "撤销扣分",
    "open": "未纠正",
    "no_penalty": "首违不罚",
}


class CreditCase(models.Model):
    """One application of the 《纳税信用修复申请表》 or the 《纳税信用复评（核）申请表》 for one evaluation year.

    A repair (修复) restores points for behaviours corrected since; a 复核 (before the results are set) or a
    复评 (after) asks that a deduction the taxpayer disputes be removed."""

    class Kind(models.TextChoices):
        REPAIR = "repair", "纳税信用修复"
        REVIEW = "review", "复核"
        RE_EVALUATION = "re_evaluation", "复评"

    class State(models.TextChoices):
        RECEIVED = "received", "已受理"
        REVIEWING = "reviewing", "审核中"
        RAISED = "raised", "已提请上级"
        ANSWERED = "answered", "上级已答复"
        APPROVED = "approved", "准予"
        PARTLY = "partly", "部分准予"
        REFUSED = "refused", "不予"
        WITHDRAWN = "withdrawn", "已撤回"

    OPEN_STATES = (State.RECEIVED, State.REVIEWING, State.RAISED, State.ANSWERED)
    DECIDED_STATES = (State.APPROVED, State.PARTLY, State.REFUSED)

    class DirectDCause(models.TextChoices):
        """直接判级D级的修复情形 (2019年第37号 一（二）（三）; 2021年第31号 一（四）及附件2)."""

        NON_NORMAL = "non_normal", "非正常户，已履行相关法定义务并解除非正常户状态"
        UNPAID_DECISION = "unpaid_decision", "未缴清处理结论所列税款、滞纳金和罚款，现已缴清"
        OTHER = "other", "其他直接判级情形，已纠正失信行为并履行纳税义务"
        # 关联评价为D (2021年第31号 一（三）; 2019年第37号 三): the linked firm named in ``linked_taxpayer``.
        LINKED_ABNORMAL = "linked_abnormal", "直接责任人员关联的非正常户已解除非正常户状态（关联评价为D级）"
        LINKED_D = "linked_d", "直接责任人员关联的D级纳税人已不再是D级（关联评价为D级）"

    LINKED_CAUSES = (DirectDCause.LINKED_ABNORMAL, DirectDCause.LINKED_D)

    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="credit_cases")
    kind = models.CharField("申请类型", max_length=14, choices=Kind.choices)
    year = models.PositiveSmallIntegerField("评价年度")
    statement = models.TextField("申请理由", blank=True, help_text="纳税人对纠正情况或异议的说明")
    commitment = models.BooleanField("承诺申请内容真实", default=False)
    # 直接判级修复: the year's D was given directly; the cause and the day it was cleared, as the application states.
    direct_d_cause = models.CharField("直接判级情形", max_length=16, choices=DirectDCause.choices, blank=True)
    direct_d_cleared_on = models.DateField(
        "情形解除日期", null=True, blank=True, help_text="解除非正常户或履行义务之日"
    )
    linked_taxpayer = models.ForeignKey(
        Taxpayer,
        verbose_name="关联纳税人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="关联评价为D级时，直接责任人员关联的非正常户或D级纳税人",
    )
    contact_name = models.CharField("联系人", max_length=50)
    contact_phone = models.CharField("联系电话", max_length=20)
    received_on = models.DateField("受理日期")
    due_on = models.DateField("办结期限", help_text="受理之日起 15 个工作日")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.RECEIVED)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The rating the case started from and the figures the rules give (refreshed at the decision).
    rating_before = models.ForeignKey(
        CreditRating, verbose_name="申请时评价结果", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level_before = models.CharField("申请时级别", max_length=1, choices=CreditLevel.choices, blank=True)
    score_before = models.DecimalField("申请时得分", max_digits=5, decimal_places=2, null=True, blank=True)
    points_restored = models.DecimalField("可恢复分值", max_digits=5, decimal_places=2, null=True, blank=True)
    level_after = models.CharField("修复后级别", max_length=1, choices=CreditLevel.choices, blank=True)
    score_after = models.DecimalField("修复后得分", max_digits=5, decimal_places=2, null=True, blank=True)
    # 提请上级: a disputed deduction the county cannot settle goes to the higher bureau.
    raised_on = models.DateField("提请上级日期", null=True, blank=True)
    raised_question = models.CharField("提请事项", max_length=500, blank=True)
    answered_on = models.DateField("上级答复日期", null=True, blank=True)
    higher_answer = models.CharField("上级答复意见", max_length=500, blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    decision_reason = models.CharField("决定理由", max_length=500, blank=True)
    new_rating = models.ForeignKey(
        CreditRating, verbose_name="决定后评价结果", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "纳税信用修复、复核、复评申请"
        verbose_name_plural = "纳税信用修复、复核、复评申请"
        ordering = ["due_on", "id"]
        permissions = [("handle_creditcase", "受理、审核、提请上级与决定信用修复、复核、复评申请")]
        indexes = [models.Index(fields=["state", "due_on"], name="credit_case_queue")]
        constraints = [
            # One live case per taxpayer, year and kind: a second application waits for the first to be decided.
            models.UniqueConstraint(
                fields=["taxpayer", "year", "kind"],
                condition=Q(state__in=["received", "reviewing", "raised", "answered"]),
                name="credit_case_one_open_per_kind",
            ),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("received_on")), name="credit_case_due_after"),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True) | Q(state__in=["approved", "partly", "refused"]),
                name="credit_case_decided_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度{self.get_kind_display()}申请 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def is_overdue(self, today) -> bool:
        """Still open after its due date (办结期限)."""
        return self.is_open and today > self.due_on


class CreditCaseItem(models.Model):
    """One behaviour named in the application: the correction date the taxpayer states (修复), or a disputed
    deduction (复核、复评); what the rules restore for it, and whether the decision granted it."""

    case = models.ForeignKey(CreditCase, verbose_name="申请", on_delete=models.CASCADE, related_name="items")
    event = models.ForeignKey(DishonestyEvent, verbose_name="失信行为", on_delete=models.PROTECT, related_name="+")
    corrected_on = models.DateField("纠正日期", null=True, blank=True)
    deduction = models.DecimalField("扣分", max_digits=5, decimal_places=2, null=True, blank=True)
    restored = models.DecimalField("可恢复分值", max_digits=5, decimal_places=2, null=True, blank=True)
    band = models.CharField("修复档次", max_length=30, blank=True)
    granted = models.BooleanField("准予", null=True)

    class Meta:
        verbose_name = "申请修复事项"
        verbose_name_plural = "申请修复事项"
        ordering = ["case", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "event"], name="credit_case_item_once")]

    def __str__(self) -> str:
        return f"{self.event}"

    @property
    def band_label(self) -> str:
        return BAND_LABELS.get(self.band, self.band)


class CreditCaseTransition(models.Model):
    """An explicit status change of a case: who, when, from what to what, and why."""

    case = models.ForeignKey(CreditCase, verbose_name="申请", on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField("原状态", max_length=10, blank=True)
    to_state = models.CharField("新状态", max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("说明", max_length=500, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "申请状态变更"
        verbose_name_plural = "申请状态变更"
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_label} → {self.to_label}"

    @property
    def from_label(self) -> str:
        return CreditCase.State(self.from_state).label if self.from_state else "—"

    @property
    def to_label(self) -> str:
        return CreditCase.State(self.to_state).label


class NonNormalSpell(models.Model):
    """A time the registry showed the taxpayer as 非正常户, as the daily credit job saw it: from the first morning it
    was seen to the morning it was seen lifted (解除). Under the 2025 rules the lifting repairs a direct D given for
    it without an application (2025年第12号 第二十四条; ``credit.rules.parameters.NON_NORMAL_LIFT_REPAIR``); the
    case that did so is kept here."""

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="non_normal_spells"
    )
    seen_since = models.DateField("发现为非正常户日期")
    lifted_on = models.DateField("解除日期", null=True, blank=True, help_text="发现已解除非正常户状态之日")
    repair_case = models.ForeignKey(
        CreditCase, verbose_name="免申请修复", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "非正常户状态记录"
        verbose_name_plural = "非正常户状态记录"
        ordering = ["taxpayer", "-seen_since"]
        constraints = [
            models.UniqueConstraint(
                fields=["taxpayer"], condition=Q(lifted_on__isnull=True), name="credit_non_normal_one_open"
            ),
            models.CheckConstraint(
                condition=Q(lifted_on__isnull=True) | Q(lifted_on__gte=models.F("seen_since")),
                name="credit_non_normal_lifted_after_seen",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.taxpayer} 非正常户 {self.seen_since:%Y-%m-%d}"
