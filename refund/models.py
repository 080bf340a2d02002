from django.conf import settings
from django.db import models
from django.db.models import Q

from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer
from taxpayers.progress import percent_done
from taxpayers.validators import PERIOD_RE

INPUT_KINDS = (
    "special_invoice",
    "motor_vehicle_invoice",
    "customs",
    "tax_payment_certificate",
    "toll_road_e_invoice",
    "air_e_invoice",
    "railway_e_ticket",
    "agricultural",
    "other",
)
"""The voucher kinds of the rules (``refund.rules.parameters.VOUCHER_KINDS``), as column suffixes."""


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

    application_period = models.CharField("申请退税所属期", max_length=7, help_text="YYYY-MM")
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
        constraints = [
            models.CheckConstraint(
                condition=Q(application_period__regex=PERIOD_RE.pattern), name="screening_run_period_format"
            ),
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


class ScreeningResult(models.Model):
    """One taxpayer's decision in a screening run: the rules' output, figures copied out for filters and totals."""

    run = models.ForeignKey(ScreeningRun, verbose_name="筛查批次", on_delete=models.CASCADE, related_name="results")
    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="screening_results"
    )
    regime = models.CharField("适用政策", max_length=40, blank=True)
    eligible = models.BooleanField("符合条件", default=False)
    error_code = models.CharField("数据问题", max_length=40, blank=True, help_text="规则无法判断时的错误代码")
    failed_conditions = models.JSONField("未满足条件", default=list, blank=True)
    size = models.CharField("企业规模", max_length=10, blank=True)
    current_credit = MoneyField("期末留抵税额", null=True, blank=True)
    base_credit = MoneyField("基数", null=True, blank=True)
    incremental_credit = MoneyField("增量留抵税额", null=True, blank=True)
    stock_credit = MoneyField("存量留抵税额", null=True, blank=True)
    input_ratio = models.DecimalField("进项构成比例", max_digits=9, decimal_places=6, null=True, blank=True)
    refundable_incremental = MoneyField("可退增量", default=0)
    refundable_stock = MoneyField("可退存量", default=0)
    refundable_total = MoneyField("可退合计", default=0)
    decision = models.JSONField("判定结果", default=dict, help_text="refund_assess 的输出，含 conditions 与 trace")

    class Meta:
        verbose_name = "筛查结果"
        verbose_name_plural = "筛查结果"
        ordering = ["run", "-refundable_total", "taxpayer"]
        constraints = [models.UniqueConstraint(fields=["run", "taxpayer"], name="screening_result_one_per_taxpayer")]
        indexes = [models.Index(fields=["run", "eligible", "regime"])]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.taxpayer_id}"


class TaxpayerInputYear(models.Model):
    """Input VAT deducted by voucher kind, per taxpayer and calendar year, from 2019-04 on.

    The input composition ratio (进项构成比例) sums every month from 2019-04 (or from the prior
    year's January, 7号 class 3) to the tax period. With these rows a screening reads two
    rows per taxpayer (the cumulative total to the year before last, last year's total)
    plus the current year's returns, whatever the length of history. ``cum_*`` is the
    running total from 2019-04 to the end of ``year``. Kept up to date by
    ``refund.aggregates.refresh_aggregates`` after imports and at the start of a run.
    """

    taxpayer = models.ForeignKey(Taxpayer, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    year_special_invoice = MoneyField(default=0)
    year_motor_vehicle_invoice = MoneyField(default=0)
    year_customs = MoneyField(default=0)
    year_tax_payment_certificate = MoneyField(default=0)
    year_toll_road_e_invoice = MoneyField(default=0)
    year_air_e_invoice = MoneyField(default=0)
    year_railway_e_ticket = MoneyField(default=0)
    year_agricultural = MoneyField(default=0)
    year_other = MoneyField(default=0)
    cum_special_invoice = MoneyField(default=0)
    cum_motor_vehicle_invoice = MoneyField(default=0)
    cum_customs = MoneyField(default=0)
    cum_tax_payment_certificate = MoneyField(default=0)
    cum_toll_road_e_invoice = MoneyField(default=0)
    cum_air_e_invoice = MoneyField(default=0)
    cum_railway_e_ticket = MoneyField(default=0)
    cum_agricultural = MoneyField(default=0)
    cum_other = MoneyField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "进项税额年度累计"
        verbose_name_plural = "进项税额年度累计"
        constraints = [models.UniqueConstraint(fields=["taxpayer", "year"], name="input_year_one_per_year")]

    def __str__(self) -> str:
        return f"{self.taxpayer_id} {self.year}"


class AggregateState(models.Model):
    """Singleton (pk=1): returns updated after ``refreshed_at`` have not yet reached the aggregates."""

    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"aggregates refreshed at {self.refreshed_at}"
