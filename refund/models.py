from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField, period_format_check
from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer
from taxpayers.progress import percent_done

from .rules.conditions import CONDITION_BITS, CONDITION_ORDER


class ScreeningRun(models.Model):
    """留抵退税筛查批次: one screening of every general taxpayer for an application period."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "运行中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    class Trigger(models.TextChoices):
        USER = "user", "手动发起"
        SCHEDULE = "schedule", "定时任务"

    application_period = PeriodField("申请退税所属期", help_text="YYYY-MM")
    application_date = models.DateField("假定申请日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    triggered_by = models.CharField("发起方式", max_length=10, choices=Trigger.choices, default=Trigger.USER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    options = models.JSONField("规则选项", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    total_count = models.PositiveIntegerField("纳税人总数", default=0)
    processed_count = models.PositiveIntegerField("已处理", default=0)
    eligible_count = models.PositiveIntegerField("符合条件", default=0)
    error_count = models.PositiveIntegerField("数据不足", default=0)
    refundable_total = MoneyField("可退税额合计", default=0)
    message = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "留抵退税筛查"
        verbose_name_plural = "留抵退税筛查"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("run_screening", "发起留抵退税筛查"),
            ("export_screening", "导出筛查结果"),
        ]
        constraints = [
            period_format_check("application_period", name="screening_run_period_format"),
            # At most one unfinished run per period: a second start returns the running one.
            models.UniqueConstraint(
                fields=["application_period"],
                condition=Q(status__in=["pending", "running"]),
                name="screening_run_one_active_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_period} 筛查 #{self.pk}"

    @property
    def progress_percent(self) -> int:
        succeeded = self.status == self.Status.SUCCEEDED
        return percent_done(processed=self.processed_count, total=self.total_count, succeeded=succeeded)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @classmethod
    def latest_succeeded(cls, application_period) -> "ScreeningRun | None":
        """The run whose results stand for the period (a ``Period`` or its text): the last one that finished."""
        return (
            cls.objects.filter(application_period=application_period, status=cls.Status.SUCCEEDED)
            .order_by("-finished_at", "-pk")
            .first()
        )


class ScreeningResult(models.Model):
    """One taxpayer's decision in a screening run: what ``refund_assess`` decides on the run's data.

    Only the outcome and its figures are kept, one narrow row per taxpayer, so that a province's
    nightly run stays cheap; the explanation (each condition's detail, citation and the trace) is
    rendered again by the rules from the taxpayer's data (``refund.screening.selectors``).
    ``failed_mask`` holds the failed condition codes as bits (``CONDITION_BITS``).
    """

    # A run writes a row per general taxpayer of the province, and the database's checks of two
    # foreign keys cost more than the writing itself (9.6 s of 16 s per 900,000 rows, bench/screening.py).
    # So neither is a database constraint: rows are written only by the run's own statements from
    # taxpayers they have just read, and removed with their run or taxpayer by the ORM (CASCADE).
    # No index of its own either: the unique (run, taxpayer) index serves lookups by run, and nothing
    # looks results up by taxpayer alone.
    run = models.ForeignKey(
        ScreeningRun, verbose_name="筛查批次", on_delete=models.CASCADE, related_name="results",
        db_index=False, db_constraint=False,
    )
    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="screening_results",
        db_index=False, db_constraint=False,
    )
    regime = models.CharField("适用政策", max_length=40, blank=True)
    eligible = models.BooleanField("符合条件", default=False)
    error_code = models.CharField("数据问题", max_length=40, blank=True, help_text="规则无法判断时的错误代码")
    failed_mask = models.PositiveIntegerField("未满足条件", default=0, help_text="CONDITION_BITS 的位组合")
    size = models.CharField("企业规模", max_length=10, blank=True)
    current_credit = MoneyField("期末留抵税额", null=True, blank=True)
    base_credit = MoneyField("基数", null=True, blank=True)
    incremental_credit = MoneyField("增量留抵税额", null=True, blank=True)
    stock_credit = MoneyField("存量留抵税额", null=True, blank=True)
    input_ratio = models.DecimalField("进项构成比例", max_digits=9, decimal_places=6, null=True, blank=True)
    refund_rate = models.CharField("退还比例", max_length=10, blank=True)
    refundable_incremental = MoneyField("可退增量", default=0)
    refundable_stock = MoneyField("可退存量", default=0)
    refundable_total = MoneyField("可退合计", default=0)

    class Meta:
        verbose_name = "筛查结果"
        verbose_name_plural = "筛查结果"
        ordering = ["run", "-refundable_total", "taxpayer"]
        constraints = [models.UniqueConstraint(fields=["run", "taxpayer"], name="screening_result_one_per_taxpayer")]
        indexes = [models.Index(fields=["run", "eligible", "regime"])]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.taxpayer_id}"

    OUTCOME_FIELDS = (
        "regime", "eligible", "error_code", "failed_mask", "size", "current_credit", "base_credit",
        "incremental_credit", "stock_credit", "input_ratio", "refund_rate", "refundable_incremental",
        "refundable_stock", "refundable_total",
    )
    """What a result keeps of a decision (everything but its run and taxpayer), in one order for every writer."""

    @property
    def failed_conditions(self) -> list[str]:
        """The failed condition codes in the contract's order."""
        return [code for code in CONDITION_ORDER if self.failed_mask & CONDITION_BITS[code]]


class ReturnState(models.Model):
    """What the refund rules need from a taxpayer's history, as of one tax period (留抵退税测算累计数).

    One row per VAT return from 2019-03 on, derived from ``VatReturn`` rows only (never from
    taxpayer attributes), so that a screening reads this one row for the tax period instead of
    the history: the ratio's sums from 2019-04 and from the prior year's January by voucher
    group (``VOUCHER_GROUPS``), the 2019-03-31 and prior year-end credits, how many of the months
    before it pass the six-month tests, and the 12 months' sales. Amounts are integer fen (分):
    exact, and cheap in set-based SQL. Kept up to date by ``refund.screening.return_states`` when returns change.
    """

    # No index of its own: the unique (taxpayer, period) index serves lookups by taxpayer.
    taxpayer = models.ForeignKey(Taxpayer, on_delete=models.CASCADE, related_name="+", db_index=False)
    period = PeriodField("所属期")
    period_index = models.IntegerField("月序", help_text="year × 12 + month − 1")
    end_credit = models.BigIntegerField("期末留抵税额（分）")
    vat_arrears = models.BigIntegerField("欠税（分）")
    approved_unbooked_export_refund = models.BigIntegerField("已审批未入账免抵退税额（分）")
    base_2019_credit = models.BigIntegerField(
        "2019年3月期末留抵税额（分）", null=True, help_text="空：无2019年3月申报表"
    )
    prior_year_end_credit = models.BigIntegerField(
        "上年12月期末留抵税额（分）", null=True, help_text="空：无上年12月申报表"
    )
    months_positive = models.PositiveSmallIntegerField(
        "前5个月留抵大于零的月数", help_text="t−5 至 t−1 中有申报、期末留抵 > 0、且不早于2019年4月的月数"
    )
    months_above_base = models.PositiveSmallIntegerField(
        "前5个月留抵高于2019年3月的月数", help_text="同上，但比较的是期末留抵 > 2019年3月期末留抵（无该表按0）"
    )
    quarter_positive = models.BooleanField(
        "上一季度留抵大于零", help_text="t−3 有申报、期末留抵 > 0，且该季度不早于2019年4月开始"
    )
    quarter_above_base = models.BooleanField("上一季度留抵高于2019年3月")
    from_2019_core = models.BigIntegerField("2019年4月起进项：专票、机动车、海关、完税凭证（分）")
    from_2019_toll = models.BigIntegerField("2019年4月起进项：通行费电子普通发票（分）")
    from_2019_travel = models.BigIntegerField("2019年4月起进项：航空、铁路电子客票（分）")
    from_2019_other = models.BigIntegerField("2019年4月起进项：农产品及其他（分）")
    from_prior_january_core = models.BigIntegerField("上年1月起进项：专票、机动车、海关、完税凭证（分）")
    from_prior_january_toll = models.BigIntegerField("上年1月起进项：通行费电子普通发票（分）")
    from_prior_january_travel = models.BigIntegerField("上年1月起进项：航空、铁路电子客票（分）")
    from_prior_january_other = models.BigIntegerField("上年1月起进项：农产品及其他（分）")
    sales_12m_plain = models.BigIntegerField("12个月内未分行业的销售额（分）")
    sales_12m_breakdown = models.JSONField(
        "12个月分行业销售额",
        null=True,
        blank=True,
        help_text="{行业代码: 分}；空：12个月内没有分行业数据，或数据库不是 PostgreSQL",
    )
    returns_12m_broken_down = models.PositiveSmallIntegerField("12个月内有分行业数据的申报表数")
    returns_12m_off_quarter = models.PositiveSmallIntegerField("12个月内非季末月份的申报表数")

    class Meta:
        verbose_name = "留抵退税测算累计数"
        verbose_name_plural = "留抵退税测算累计数"
        constraints = [models.UniqueConstraint(fields=["taxpayer", "period"], name="return_state_one_per_period")]
        # A screening reads one period's rows for a range of taxpayers.
        indexes = [models.Index(fields=["period", "taxpayer"], name="return_state_period_taxpayer")]

    def __str__(self) -> str:
        return f"{self.taxpayer_id} {self.period}"


class AggregateState(models.Model):
    """Singleton (pk=1): returns updated after ``refreshed_at`` have not yet reached ``ReturnState``."""

    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"aggregates refreshed at {self.refreshed_at}"


# --- 候选名单: candidate lists pushed to the branches and the service section (issue 5) ------------------------


class CandidateList(models.Model):
    """候选名单: the taxpayers who may qualify, pushed on a push date to one branch or to the service section.

    Built once per push date and audience from the application period's latest succeeded screening run, merged
    with the higher bureau's lists (上级下发名单); an immutable snapshot from then on (only the funnel of its
    items moves). A branch list holds its branch's items; the service section's list (纳税服务股) is every item
    of the push date.
    """

    class Audience(models.TextChoices):
        BRANCH = "branch", "税源管理分局"
        SERVICE = "service", "纳税服务股"

    push_date = models.DateField("推送日期")
    application_period = PeriodField("申请退税所属期", help_text="YYYY-MM")
    audience = models.CharField("推送对象", max_length=10, choices=Audience.choices)
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
                fields=["push_date", "branch"], condition=Q(audience="branch"), name="candidate_list_one_per_branch"
            ),
            models.UniqueConstraint(
                fields=["push_date"], condition=Q(audience="service"), name="candidate_list_one_service_list"
            ),
        ]

    def __str__(self) -> str:
        who = self.branch.name if self.branch_id else self.get_audience_display()
        return f"{self.push_date.isoformat()} {who}候选名单"

    @property
    def is_service_list(self) -> bool:
        return self.audience == self.Audience.SERVICE


class CandidateItem(models.Model):
    """候选名单条目: one taxpayer in one push date's list — the screening snapshot and the funnel since.

    Snapshot fields (regime, amounts, failed conditions, source) never change after the push. The funnel
    moves by itself as data arrives: listed → reminded → declared (the return it rests on is imported) →
    applied → refunded, or closed as declined (the taxpayer keeps the credit) or ineligible (申请前调查).
    Each stage's time is kept, so the funnel counts every item that reached a stage.
    """

    class Stage(models.TextChoices):
        LISTED = "listed", "已推送"
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


# --- 留抵退税申请: applications, their history and coaching ---------------------------------------------------


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
            ("export_refundapplication", "导出留抵退税申请"),
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
