"""What risk officers edit: the parameters of the indicators and the rules that grade a scanned taxpayer.

Neither is ever overwritten. An edit adds a version with the day it takes effect, who made it and why; the version
in force on a day is the one of the latest ``effective_from`` on or before it (ties: the later row). Before any
version exists the defaults written beside each indicator (``risk.indicators``) and grade (``risk.grading``) hold.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .scans import RiskGrade


class IndicatorParameterVersion(models.Model):
    """指标参数版本: one value of one indicator's parameter from ``effective_from`` on."""

    indicator_code = models.CharField("指标代码", max_length=40)
    parameter = models.CharField("参数", max_length=40)
    value = models.CharField("参数值", max_length=200)
    effective_from = models.DateField("生效日期")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("修改原因", max_length=500)
    created_at = models.DateTimeField("修改时间", auto_now_add=True)

    class Meta:
        verbose_name = "指标参数版本"
        verbose_name_plural = "指标参数版本"
        ordering = ["indicator_code", "parameter", "-effective_from", "-id"]
        indexes = [
            models.Index(fields=["indicator_code", "parameter", "-effective_from"], name="risk_param_in_force"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="risk_param_version_has_reason")]

    def __str__(self) -> str:
        return f"{self.indicator_code}.{self.parameter} = {self.value}（{self.effective_from.isoformat()}起）"


class GradeRule(models.Model):
    """风险等级规则: when a scanned taxpayer or application is graded ``grade`` (中 or 高), from ``effective_from`` on.

    The rule is met when any threshold that is set is reached: at least ``min_high_hits`` hits of high severity,
    ``min_medium_hits`` of medium or above, or ``min_total_hits`` of any severity. 高 is tried first, then 中;
    a subject meeting neither is 低."""

    grade = models.CharField("风险等级", max_length=6, choices=RiskGrade.choices)
    min_high_hits = models.PositiveSmallIntegerField("高风险疑点数不少于", null=True, blank=True)
    min_medium_hits = models.PositiveSmallIntegerField("中风险及以上疑点数不少于", null=True, blank=True)
    min_total_hits = models.PositiveSmallIntegerField("疑点总数不少于", null=True, blank=True)
    effective_from = models.DateField("生效日期")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("修改原因", max_length=500)
    created_at = models.DateTimeField("修改时间", auto_now_add=True)

    class Meta:
        verbose_name = "风险等级规则"
        verbose_name_plural = "风险等级规则"
        ordering = ["grade", "-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(grade__in=["medium", "high"]), name="risk_grade_rule_medium_or_high"),
            models.CheckConstraint(
                condition=Q(min_high_hits__gte=1) | Q(min_medium_hits__gte=1) | Q(min_total_hits__gte=1),
                name="risk_grade_rule_has_threshold",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="risk_grade_rule_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_grade_display()}（{self.effective_from.isoformat()}起）"
