"""Scans (风险扫描) and what they found: each hit (疑点) with the figures that fired it, and the grade (低/中/高)
of each scanned taxpayer or application.

A scan of all taxpayers stores a result row only for the taxpayers it found something on: a taxpayer it scanned
without a result is 低 for that scan. A scan of one application, or of a candidate list, stores a result for
every application or candidate it scanned; a scan of the refunds paid in a month (事后复核) one for every taxpayer
paid in it, naming the application paid. A scan records the parameter versions and grade rules it used, so
its hits can be explained after the parameters change.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField
from core.periods import format_period_cn
from taxpayers.models import Taxpayer


class Severity(models.TextChoices):
    """How serious an indicator's hit is (疑点风险程度)."""

    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"


class RiskGrade(models.TextChoices):
    """风险等级 of a scanned taxpayer or application: 低 — batch approval allowed; 中 — individual review;
    高 — a collective consultation (集体会商) decides before approval."""

    LOW = "low", "低风险"
    MEDIUM = "medium", "中风险"
    HIGH = "high", "高风险"


class Scan(models.Model):
    """风险扫描: one run of the indicators over a set of taxpayers as of a day."""

    class Kind(models.TextChoices):
        ALL = "all", "全部纳税人"
        APPLICATION = "application", "单户退税申请"
        CANDIDATES = "candidates", "候选名单"
        PAID = "paid", "当月已退税"

    class Status(models.TextChoices):
        RUNNING = "running", "扫描中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("扫描范围", max_length=12, choices=Kind.choices)
    as_of = models.DateField("扫描基准日")
    application_id = models.BigIntegerField("退税申请编号", null=True, blank=True)
    candidate_list_id = models.BigIntegerField("候选名单编号", null=True, blank=True)
    period = PeriodField("退库月份", blank=True, help_text="当月已退税扫描：退库日期所在的月份")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    parameters_used = models.JSONField(
        "所用参数", default=dict, blank=True, help_text="{指标代码: {参数: {value, version_id, effective_from}}}"
    )
    grade_rules_used = models.JSONField("所用等级规则", default=dict, blank=True)
    taxpayer_count = models.PositiveIntegerField("扫描户数", default=0)
    hit_count = models.PositiveIntegerField("疑点数", default=0)
    high_count = models.PositiveIntegerField("高风险户数", default=0)
    medium_count = models.PositiveIntegerField("中风险户数", default=0)
    message = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "风险扫描"
        verbose_name_plural = "风险扫描"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["application_id", "-started_at"], name="risk_scan_application")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="application") | Q(application_id__isnull=False), name="risk_scan_application_set"
            ),
            models.CheckConstraint(
                condition=~Q(kind="candidates") | Q(candidate_list_id__isnull=False), name="risk_scan_list_set"
            ),
            models.CheckConstraint(condition=~Q(kind="paid") | ~Q(period=""), name="risk_scan_paid_period_set"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.PAID and self.period:
            return f"{format_period_cn(self.period)}已退税 风险扫描"
        return f"{self.get_kind_display()} {self.as_of.isoformat()} 风险扫描"


class RiskHit(models.Model):
    """风险疑点: an indicator that fired on a taxpayer (and, in a scan of applications or candidates, on which one),
    with ``evidence``: the figures that fired it, as the indicator names them."""

    scan = models.ForeignKey(Scan, verbose_name="风险扫描", on_delete=models.CASCADE, related_name="hits")
    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="+")
    application_id = models.BigIntegerField("退税申请编号", null=True, blank=True)
    candidate_item_id = models.BigIntegerField("候选名单条目编号", null=True, blank=True)
    indicator_code = models.CharField("指标代码", max_length=40)
    severity = models.CharField("风险程度", max_length=6, choices=Severity.choices)
    evidence = models.JSONField("疑点依据", default=dict, blank=True)

    class Meta:
        verbose_name = "风险疑点"
        verbose_name_plural = "风险疑点"
        ordering = ["scan", "taxpayer", "indicator_code"]
        permissions = [("export_riskhit", "可以导出风险疑点")]
        indexes = [
            models.Index(fields=["taxpayer", "indicator_code"], name="risk_hit_taxpayer"),
            # An indicator's hits per scan (its hit rate by month) without reading the other indicators' hits.
            models.Index(fields=["indicator_code", "scan"], name="risk_hit_indicator_scan"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["scan", "taxpayer", "indicator_code"], name="risk_hit_one_per_scan"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.taxpayer_id}"


class ScanResult(models.Model):
    """The grade a scan gave one taxpayer (and the application or candidate scanned for it), from its hits by the
    grade rules in force on the scan's day."""

    scan = models.ForeignKey(Scan, verbose_name="风险扫描", on_delete=models.CASCADE, related_name="results")
    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="+")
    application_id = models.BigIntegerField("退税申请编号", null=True, blank=True)
    candidate_item_id = models.BigIntegerField("候选名单条目编号", null=True, blank=True)
    grade = models.CharField("风险等级", max_length=6, choices=RiskGrade.choices)
    high_hits = models.PositiveSmallIntegerField("高风险疑点", default=0)
    medium_hits = models.PositiveSmallIntegerField("中风险疑点", default=0)
    low_hits = models.PositiveSmallIntegerField("低风险疑点", default=0)

    class Meta:
        verbose_name = "风险等级结果"
        verbose_name_plural = "风险等级结果"
        ordering = ["scan", "taxpayer"]
        indexes = [
            models.Index(fields=["application_id"], name="risk_result_application"),
            models.Index(fields=["scan", "grade"], name="risk_result_scan_grade"),
        ]
        constraints = [models.UniqueConstraint(fields=["scan", "taxpayer"], name="risk_result_one_per_scan")]

    def __str__(self) -> str:
        return f"{self.taxpayer_id} {self.get_grade_display()}"
