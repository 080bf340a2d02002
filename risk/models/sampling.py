"""事后复核 (post-refund review): the monthly sample of the refunds paid, and the parameters that draw it.

The sample of a month is drawn once (one row per month) and never redrawn: it records the seed of its random part,
the parameter values it used, the population it was drawn from (count, amount and a digest of its rows) and each
refund drawn with the reasons it was drawn, so that drawing again with what it records gives the same refunds.
The parameters are versions like the indicators' (never overwritten; the one in force on a day is the latest
``effective_from`` on or before it).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField
from core.periods import format_period_cn
from refund.models import RefundApplication
from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer

from .scans import Scan


class SampleParameterVersion(models.Model):
    """抽样参数版本: one value of one parameter of the monthly sample from ``effective_from`` on."""

    parameter = models.CharField("参数", max_length=40)
    value = models.CharField("参数值", max_length=200)
    effective_from = models.DateField("生效日期")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("修改原因", max_length=500)
    created_at = models.DateTimeField("修改时间", auto_now_add=True)

    class Meta:
        verbose_name = "抽样参数版本"
        verbose_name_plural = "抽样参数版本"
        ordering = ["parameter", "-effective_from", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="risk_sample_param_has_reason")]

    def __str__(self) -> str:
        return f"{self.parameter} = {self.value}（{self.effective_from.isoformat()}起）"


class MonthlySample(models.Model):
    """事后复核样本: the refunds of one month drawn for post-refund review, with what reproduces the draw."""

    period = PeriodField("退库月份", unique=True)
    seed = models.BigIntegerField("随机种子")
    parameters_used = models.JSONField(
        "所用参数", default=dict, help_text="{参数: {value, version_id, effective_from}}"
    )
    scan = models.ForeignKey(
        Scan, verbose_name="当月已退税风险扫描", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    population_count = models.PositiveIntegerField("当月已退税笔数")
    population_amount = MoneyField("当月退税额合计")
    population_digest = models.CharField("总体校验值", max_length=64)
    sampled_count = models.PositiveIntegerField("抽中笔数")
    sampled_amount = MoneyField("抽中退税额")
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="抽取人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="空：每月定时任务抽取",
    )
    drawn_at = models.DateTimeField("抽取时间", auto_now_add=True)

    class Meta:
        verbose_name = "事后复核样本"
        verbose_name_plural = "事后复核样本"
        ordering = ["-period"]
        permissions = [("export_monthlysample", "导出事后复核样本")]

    def __str__(self) -> str:
        return f"{format_period_cn(self.period)}事后复核样本"


class SampledRefund(models.Model):
    """A refund drawn into a month's sample: the application paid, the figures as the ledger held them, and
    ``reasons``, every rule that drew it (重点行业大额, 即征即退, 最大额, 随机)."""

    sample = models.ForeignKey(MonthlySample, verbose_name="样本", on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField("序号")
    application = models.ForeignKey(
        RefundApplication, verbose_name="退税申请", on_delete=models.PROTECT, related_name="+"
    )
    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name="主管税务机关", on_delete=models.PROTECT, related_name="+"
    )
    identifier = models.CharField("纳税人识别号", max_length=20)
    name = models.CharField("纳税人名称", max_length=200)
    industry_code = models.CharField("行业代码", max_length=5, blank=True)
    amount = MoneyField("当月退税额")
    paid_on = models.DateField("退库日期")
    reasons = models.JSONField("抽中原因", default=list)
    task = models.OneToOneField(
        "risk.RiskTask",
        verbose_name="复核任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sampled_refund",
    )

    class Meta:
        verbose_name = "事后复核样本退税"
        verbose_name_plural = "事后复核样本退税"
        ordering = ["sample", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "application"], name="risk_sampled_once"),
            models.UniqueConstraint(fields=["sample", "position"], name="risk_sampled_position"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.amount}"
