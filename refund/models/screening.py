"""留抵退税筛查: screening runs, their results, and the return states the set-based screening reads."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField, period_format_check
from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer
from taxpayers.progress import percent_done

from ..rules.conditions import CONDITION_BITS, CONDITION_ORDER


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

