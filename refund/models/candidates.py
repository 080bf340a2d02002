"""候选名单: the lists pushed to the branches and the service section, their items (the funnel), coaching on an
item, the higher bureau's lists and the candidate settings."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField, period_format_check
from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer

from ..rules.conditions import CONDITION_BITS, CONDITION_ORDER
from .screening import ScreeningResult, ScreeningRun


class RegularListManager(models.Manager):
    """The push dates' lists only (without the 即时名单)."""

    def get_queryset(self):
        return super().get_queryset().filter(kind="regular")


class CandidateList(models.Model):
    """候选名单: the taxpayers who may qualify, pushed on a push date to one branch or to the service section.

    Built once per push date and audience from the application period's latest succeeded screening run, merged
    with the higher bureau's lists (上级下发名单); an immutable snapshot from then on (only the funnel of its
    items moves). A branch list holds its branch's items; the service section's list (纳税服务股) is every item
    of the push date's regular lists.

    The 即时名单 (kind ``adhoc``) is the other kind: one a day, any day, for the service section, gathering the
    taxpayers a credit repair, 复核 or 复评 has just made eligible (应退尽退). Its items are its own; the refund
    officer pushes it whenever it holds taxpayers not yet pushed (``pushed_count`` below ``item_count``).
    """

    class Audience(models.TextChoices):
        BRANCH = "branch", "税源管理分局"
        SERVICE = "service", "纳税服务股"

    class Kind(models.TextChoices):
        REGULAR = "regular", "推送日名单"
        ADHOC = "adhoc", "即时名单"

    push_date = models.DateField("推送日期")
    application_period = PeriodField("申请退税所属期", help_text="YYYY-MM")
    audience = models.CharField("推送对象", max_length=10, choices=Audience.choices)
    kind = models.CharField("名单类型", max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    branch = models.ForeignKey(
        "accounts.Branch",
        verbose_name="税源管理分局",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidate_lists",
    )
    screening_run = models.ForeignKey(
        ScreeningRun, verbose_name="依据的筛查", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="生成人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    built_at = models.DateTimeField("推送时间", auto_now_add=True)
    item_count = models.PositiveIntegerField("候选户数", default=0)
    new_count = models.PositiveIntegerField("新增户数", default=0)
    upper_count = models.PositiveIntegerField("上级下发户数", default=0)
    refundable_total = MoneyField("可退税额合计", default=0)
    notified_at = models.DateTimeField("站内通知时间", null=True, blank=True)
    pushed_count = models.PositiveIntegerField("已推送户数", default=0, help_text="即时名单：最近一次推送时的户数")

    objects = models.Manager()
    regular = RegularListManager()

    class Meta:
        verbose_name = "候选名单"
        verbose_name_plural = "候选名单"
        ordering = ["-push_date", "-audience", "branch__sort_order", "branch__code"]  # the service list first
        permissions = [
            ("build_candidatelist", "生成候选名单"),
            ("import_upperlist", "导入上级下发名单"),
            ("export_candidatelist", "导出候选名单"),
            ("remind_candidates", "发送候选名单提醒短信"),
            ("work_candidateitem", "登记申请前调查与辅导"),
        ]
        constraints = [
            period_format_check("application_period", name="candidate_list_period_format"),
            models.CheckConstraint(
                condition=(Q(audience="branch") & Q(branch__isnull=False))
                | (Q(audience="service") & Q(branch__isnull=True)),
                name="candidate_list_branch_matches_audience",
            ),
            # Building twice for the same date and branch yields one list.
            models.UniqueConstraint(
                fields=["push_date", "branch"],
                condition=Q(audience="branch", kind="regular"),
                name="candidate_list_one_per_branch",
            ),
            models.UniqueConstraint(
                fields=["push_date"],
                condition=Q(audience="service", kind="regular"),
                name="candidate_list_one_service_list",
            ),
            models.UniqueConstraint(
                fields=["push_date"], condition=Q(kind="adhoc"), name="candidate_list_one_adhoc_per_day"
            ),
            models.CheckConstraint(
                condition=Q(kind="regular") | Q(audience="service"), name="candidate_list_adhoc_for_service"
            ),
        ]

    def __str__(self) -> str:
        if self.is_adhoc:
            return f"{self.push_date.isoformat()} 即时名单"
        who = self.branch.name if self.branch_id else self.get_audience_display()
        return f"{self.push_date.isoformat()} {who}候选名单"

    @property
    def is_service_list(self) -> bool:
        """The service section's list of a push date (every item of the date's regular lists)."""
        return self.audience == self.Audience.SERVICE and self.kind == self.Kind.REGULAR

    @property
    def is_adhoc(self) -> bool:
        return self.kind == self.Kind.ADHOC

    @property
    def audience_title(self) -> str:
        """Whom the list is for, as the pages name it."""
        if self.is_adhoc:
            return "即时名单（信用修复后符合条件）"
        return self.branch.name if self.branch_id else "纳税服务股（全部分局）"

    @property
    def audience_short(self) -> str:
        if self.is_adhoc:
            return "即时名单"
        return self.branch.name if self.branch_id else "纳税服务股"

    @property
    def unpushed_count(self) -> int:
        """即时名单: taxpayers added since its last push."""
        return max(self.item_count - self.pushed_count, 0) if self.is_adhoc else 0


class CandidateItem(models.Model):
    """候选名单条目: one taxpayer in one push date's list — the screening snapshot and the funnel since.

    Snapshot fields (regime, amounts, failed conditions, source) never change after the push. The funnel
    moves by itself as data arrives: listed → reminded → declared (the return it rests on is imported) →
    applied → refunded, or closed as declined (the taxpayer keeps the credit) or ineligible (申请前调查).
    Each stage's time is kept, so the funnel counts every item that reached a stage.
    """

    class Stage(models.TextChoices):
        LISTED = "listed", "已列入名单"
        REMINDED = "reminded", "已提醒"
        DECLARED = "declared", "已申报"
        APPLIED = "applied", "已申请"
        REFUNDED = "refunded", "已退税"
        DECLINED = "declined", "放弃申请"
        INELIGIBLE = "ineligible", "核实不符合"

    class Source(models.TextChoices):
        SCREENING = "screening", "本局筛查"
        UPPER = "upper", "上级下发"
        BOTH = "both", "本局筛查、上级下发"

    class Verification(models.TextChoices):
        PASSED = "passed", "核实符合"
        INELIGIBLE = "ineligible", "核实不符合"

    candidate_list = models.ForeignKey(
        CandidateList, verbose_name="分局名单", on_delete=models.CASCADE, related_name="items"
    )
    push_date = models.DateField("推送日期")
    application_period = PeriodField("申请退税所属期")
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name="税源管理分局", on_delete=models.PROTECT, related_name="+"
    )
    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="candidate_items"
    )
    screening_result = models.ForeignKey(
        ScreeningResult, verbose_name="筛查结果", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    regime = models.CharField("适用政策", max_length=40, blank=True)
    eligible = models.BooleanField("筛查符合条件", null=True, help_text="空：本次筛查没有该纳税人")
    error_code = models.CharField("数据问题", max_length=40, blank=True)
    failed_mask = models.PositiveIntegerField("未满足条件", default=0)
    current_credit = MoneyField("期末留抵税额", null=True, blank=True)
    refundable_incremental = MoneyField("可退增量", default=0)
    refundable_stock = MoneyField("可退存量", default=0)
    refundable_total = MoneyField("可退合计", default=0)
    upper_amount = MoneyField("上级下发金额", null=True, blank=True)
    upper_note = models.CharField("上级下发备注", max_length=500, blank=True)
    upper_source = models.CharField("上级下发来源", max_length=200, blank=True)
    previously_listed = models.BooleanField("本所属期已推送过", default=False)
    first_listed_on = models.DateField("本所属期首次推送", null=True, blank=True)
    return_period = PeriodField("应申报所属期", help_text="申请所依据的申报表所属期")

    stage = models.CharField("进度", max_length=10, choices=Stage.choices, default=Stage.LISTED)
    reminded_at = models.DateTimeField("提醒时间", null=True, blank=True)
    reminder_sms = models.ForeignKey(
        "notify.SmsMessage",
        verbose_name="提醒短信",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminder_error = models.CharField("未能提醒的原因", max_length=200, blank=True)
    declared_at = models.DateTimeField("申报时间", null=True, blank=True)
    applied_at = models.DateTimeField("申请时间", null=True, blank=True)
    refunded_at = models.DateTimeField("退税时间", null=True, blank=True)
    closed_as = models.CharField(
        "结束方式", max_length=10, blank=True, choices=[("declined", "放弃申请"), ("ineligible", "核实不符合")]
    )
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_reason = models.CharField("放弃或不符合的原因", max_length=500, blank=True)
    verification = models.CharField("申请前调查结论", max_length=10, choices=Verification.choices, blank=True)
    verification_note = models.CharField("调查情况", max_length=500, blank=True)
    verified_on = models.DateField("调查日期", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="调查人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "候选名单条目"
        verbose_name_plural = "候选名单条目"
        ordering = ["-refundable_total", "taxpayer_id"]
        constraints = [
            models.UniqueConstraint(fields=["push_date", "taxpayer"], name="candidate_item_one_per_date"),
            models.CheckConstraint(condition=Q(refundable_total__gte=0), name="candidate_item_amount_non_negative"),
        ]
        indexes = [
            models.Index(fields=["application_period", "taxpayer"]),
            models.Index(fields=["push_date", "branch", "stage"]),
            models.Index(fields=["branch", "stage"]),
        ]

    def __str__(self) -> str:
        return f"{self.push_date.isoformat()} {self.taxpayer_id}"

    @property
    def failed_conditions(self) -> list[str]:
        return [code for code in CONDITION_ORDER if self.failed_mask & CONDITION_BITS[code]]

    @property
    def is_new(self) -> bool:
        return not self.previously_listed

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


OPEN_STAGES = (CandidateItem.Stage.LISTED, CandidateItem.Stage.REMINDED, CandidateItem.Stage.DECLARED)
CLOSED_STAGES = (CandidateItem.Stage.DECLINED, CandidateItem.Stage.INELIGIBLE)


class CandidateCoaching(models.Model):
    """一对一辅导: a branch (or refund) officer's coaching of a candidate taxpayer, recorded on the item."""

    item = models.ForeignKey(
        CandidateItem, verbose_name="候选名单条目", on_delete=models.CASCADE, related_name="coachings"
    )
    topic = models.CharField("辅导主题", max_length=100)
    notes = models.TextField("辅导情况", blank=True)
    coached_on = models.DateField("辅导日期")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="辅导人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "一对一辅导记录"
        verbose_name_plural = "一对一辅导记录"
        ordering = ["-coached_on", "-id"]

    def __str__(self) -> str:
        return f"{self.coached_on.isoformat()} {self.topic}"


class UpperListImport(models.Model):
    """上级下发名单: a list of taxpayers sent by the higher bureau for a push date, imported from xlsx.

    Merged into that date's lists when they are built (the source is shown on each item); a date whose lists
    were already pushed takes no more imports.
    """

    push_date = models.DateField("并入推送日")
    source_name = models.CharField("下发单位", max_length=100, help_text="如：市税务局货物和劳务税处")
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("文件哈希", max_length=64)
    row_count = models.PositiveIntegerField("户数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "上级下发名单"
        verbose_name_plural = "上级下发名单"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["push_date", "sha256"], name="upper_list_same_file_once_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.push_date.isoformat()} {self.source_name}（{self.original_name}）"


class UpperListEntry(models.Model):
    upload = models.ForeignKey(
        UpperListImport, verbose_name="上级下发名单", on_delete=models.CASCADE, related_name="entries"
    )
    row = models.PositiveIntegerField("行号")
    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField("金额", null=True, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)

    class Meta:
        verbose_name = "上级下发名单条目"
        verbose_name_plural = "上级下发名单条目"
        ordering = ["upload", "row"]
        constraints = [models.UniqueConstraint(fields=["upload", "taxpayer"], name="upper_list_entry_one_per_taxpayer")]

    def __str__(self) -> str:
        return f"{self.upload_id}/{self.taxpayer_id}"


class CandidateSettings(models.Model):
    """候选名单设置 (one row, pk=1), edited by the information centre in the admin site."""

    auto_remind = models.BooleanField(
        "推送日9:00自动发送提醒短信",
        default=False,
        help_text="开启后，每个推送日9:00自动向当日候选名单中尚未提醒的纳税人发送提醒短信；关闭时由纳税服务股手动发送。",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "候选名单设置"
        verbose_name_plural = "候选名单设置"

    def __str__(self) -> str:
        return "候选名单设置"

    @classmethod
    def load(cls) -> "CandidateSettings":
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row

