"""纳税信用 data: the rating history per taxpayer and evaluation year, the dishonesty events (失信行为) that cost
points, and the files they were imported from.

A rating is never overwritten: a repair (修复), a 复核 or a 复评 adds a row with the date it took effect, so the
rating in force on any day can be read back (``credit.selectors.rating_in_force``). Events are keyed by their
natural key so that importing the same file again, or deriving late returns again, changes nothing.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from core.fields import PeriodField
from taxpayers.fields import MoneyField
from taxpayers.models import CreditLevel, Taxpayer

from ..rules.indicators import CODE_MAX_LENGTH, LOCAL_CODES, indicator_name

INDICATOR_PATTERN = r"^([0-9]{6}|" + "|".join(sorted(LOCAL_CODES)) + ")$"
"""Six digits (010101), or one of the rules' local codes for the rows whose official code was not read (the
bank-account rows); ``credit.rules.indicators.is_indicator_code`` says the same in Python."""
INDICATOR_CODE = RegexValidator(INDICATOR_PATTERN, "指标代码应为 6 位数字（如 010101），或评价指标表中的指标。")


class RatingBasis(models.TextChoices):
    """How a rating was reached: the annual evaluation, a repair (纳税信用修复), a 复核 before the results were set,
    or a 复评 after (国家税务总局公告2014年第40号 第二十四条; 2025年第12号)."""

    EVALUATED = "evaluated", "评价"
    REPAIRED = "repaired", "修复"
    REVIEWED = "reviewed", "复核"
    RE_EVALUATED = "re_evaluated", "复评"


class RuleSet(models.TextChoices):
    """The rating system a rating was given under: the 2014 system (公告2014年第40号、第48号 and amendments) for
    evaluation years up to 2024, the 纳税缴费信用管理办法 (公告2025年第12号) in force from 2025-07-01."""

    CN_2014 = "2014", "2014年纳税信用管理办法（试行）"
    CN_2025 = "2025", "2025年纳税缴费信用管理办法"

    @classmethod
    def for_year(cls, year: int) -> "RuleSet":
        """The default for an evaluation year; 2025 straddles the change and follows the new system."""
        return cls.CN_2025 if year >= 2025 else cls.CN_2014


def indicator_label(code: str, on=None) -> str:
    """The indicator's name from the rules' table in force on the day, or its code when no table holds it."""
    return indicator_name(code, on) or f"指标 {code}"


class CreditImport(models.Model):
    """One credit file applied (ratings, dishonesty events or taxpayer flags): who, when, what it changed.

    A refused file leaves no row: the officer sees its errors on the page and nothing was written."""

    class Kind(models.TextChoices):
        RATINGS = "ratings", "纳税信用评价结果"
        EVENTS = "events", "失信行为记录"
        FLAGS = "flags", "专精特新、创新型中小企业认定"

    kind = models.CharField("导入类型", max_length=10, choices=Kind.choices)
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("文件哈希", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变化", default=0)

    class Meta:
        verbose_name = "信用数据导入"
        verbose_name_plural = "信用数据导入"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class CreditRating(models.Model):
    """纳税信用评价结果: one taxpayer's level for one evaluation year as it took effect on ``evaluated_on``.

    A later row of the same year (修复, 复核, 复评) supersedes the earlier from its own date; the earlier stays.
    ``score`` is empty for a direct D (直接判级) and for M, which are not reached by points."""

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="credit_ratings"
    )
    year = models.PositiveSmallIntegerField("评价年度")
    level = models.CharField("信用级别", max_length=1, choices=CreditLevel.choices)
    score = models.DecimalField("评价得分", max_digits=5, decimal_places=2, null=True, blank=True)
    evaluated_on = models.DateField("生效日期", help_text="评价结果确定或修复、复核、复评决定之日")
    basis = models.CharField("评价方式", max_length=12, choices=RatingBasis.choices, default=RatingBasis.EVALUATED)
    rule_set = models.CharField("适用办法", max_length=4, choices=RuleSet.choices)
    source_import = models.ForeignKey(
        CreditImport, verbose_name="来源导入", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "纳税信用评价结果"
        verbose_name_plural = "纳税信用评价结果"
        ordering = ["taxpayer", "-year", "-evaluated_on"]
        indexes = [models.Index(fields=["taxpayer", "-year", "-evaluated_on"], name="credit_rating_in_force")]
        constraints = [
            models.UniqueConstraint(
                fields=["taxpayer", "year", "evaluated_on"], name="credit_rating_one_per_year_and_day"
            ),
            models.CheckConstraint(condition=Q(level__in=CreditLevel.values), name="credit_rating_level_valid"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="credit_rating_score_0_100"
            ),
            models.CheckConstraint(condition=Q(year__gte=2014), name="credit_rating_year_from_2014"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度 {self.level}级（{self.get_basis_display()}）"


class DishonestyEvent(models.Model):
    """失信行为记录: one behaviour that costs points, recorded on ``recorded_on`` and corrected (纠正) on
    ``corrected_on`` (empty while open). A 首违不罚 case (``no_penalty``) is kept but not evaluated
    (公告2021年第31号; 2025年第12号 第十九条).

    Imported events are keyed by taxpayer, indicator, tax and record date; late returns derived from the VAT
    returns held are keyed by taxpayer, indicator, tax and tax period, so a changed deadline moves the record
    date instead of adding a second event."""

    class Source(models.TextChoices):
        IMPORTED = "imported", "导入"
        DERIVED = "derived", "系统推算"

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="dishonesty_events"
    )
    indicator = models.CharField("指标代码", max_length=CODE_MAX_LENGTH, validators=[INDICATOR_CODE])
    recorded_on = models.DateField("记录日期", help_text="列入失信记录之日；逾期申报为申报期限的次日")
    tax = models.CharField("税（费）种", max_length=30, blank=True)
    period = PeriodField("所属期", null=True, blank=True, help_text="YYYY-MM；推算的逾期申报必填")
    amount = MoneyField("涉及税（费）款", null=True, blank=True)
    corrected_on = models.DateField("纠正日期", null=True, blank=True, help_text="空表示尚未纠正")
    no_penalty = models.BooleanField("首违不罚", default=False)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.IMPORTED)
    source_import = models.ForeignKey(
        CreditImport, verbose_name="来源导入", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "失信行为记录"
        verbose_name_plural = "失信行为记录"
        ordering = ["taxpayer", "-recorded_on", "indicator"]
        indexes = [
            models.Index(fields=["taxpayer", "recorded_on"], name="credit_event_by_taxpayer"),
            models.Index(fields=["recorded_on"], name="credit_event_by_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["taxpayer", "indicator", "tax", "recorded_on"],
                condition=Q(source="imported"),
                name="credit_event_imported_unique",
            ),
            models.UniqueConstraint(
                fields=["taxpayer", "indicator", "tax", "period"],
                condition=Q(source="derived"),
                name="credit_event_derived_unique",
            ),
            models.CheckConstraint(condition=Q(indicator__regex=INDICATOR_PATTERN), name="credit_event_indicator_code"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_event_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(corrected_on__isnull=True) | Q(corrected_on__gte=models.F("recorded_on")),
                name="credit_event_corrected_after_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(source="derived") | Q(period__isnull=False), name="credit_event_derived_has_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{indicator_label(self.indicator, self.recorded_on)} {self.recorded_on:%Y-%m-%d}"

    @property
    def indicator_label(self) -> str:
        return indicator_label(self.indicator, self.recorded_on)

    @property
    def is_open(self) -> bool:
        return self.corrected_on is None
