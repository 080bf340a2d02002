"""信用预警 data: the daily prediction of each taxpayer's score and level for the current evaluation year, and the
contacts (短信、电话、上门辅导) the credit officer makes with a taxpayer about its rating.

A prediction is one row per taxpayer and year, upserted by each run of the daily job (running it twice leaves the
same rows; a row whose prediction did not move is not written again). A contact is never rewritten: each SMS, call
or visit adds a row with its outcome.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from taxpayers.models import CreditLevel, Taxpayer

from .records import DishonestyEvent


class CreditPrediction(models.Model):
    """The rating ``taxpayer`` would get for ``year`` if the year ended as known at the daily job's last run
    (``credit.rules.assess``), with what correcting its open behaviours would restore; ``computed_at`` is when
    the prediction last changed.

    ``warnings`` holds the rules' warnings, most points first: indicator, its name, the event's record date and
    id, the points at stake and the date by which a correction restores them (null: no date)."""

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="credit_predictions"
    )
    year = models.PositiveSmallIntegerField("评价年度")
    current_level = models.CharField("现级别", max_length=1, choices=CreditLevel.choices, blank=True)
    score = models.DecimalField("预测得分", max_digits=5, decimal_places=2)
    level = models.CharField("预测级别", max_length=1, choices=CreditLevel.choices)
    score_if_repaired = models.DecimalField("全部纠正后得分", max_digits=5, decimal_places=2)
    level_if_repaired = models.CharField("全部纠正后级别", max_length=1, choices=CreditLevel.choices)
    points_at_stake = models.DecimalField("可挽回分值", max_digits=5, decimal_places=2, default=0)
    deadline = models.DateField("最早纠正期限", null=True, blank=True, help_text="在此日前纠正可挽回最多分值")
    open_events = models.PositiveSmallIntegerField("未纠正行为数", default=0)
    warnings = models.JSONField("预警明细", default=list, blank=True)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "信用预测"
        verbose_name_plural = "信用预测"
        ordering = ["taxpayer", "-year"]
        permissions = [("export_creditprediction", "Can export credit warning lists")]
        constraints = [
            models.UniqueConstraint(fields=["taxpayer", "year"], name="credit_prediction_one_per_year"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="credit_prediction_score_0_100"),
        ]
        indexes = [models.Index(fields=["year", "current_level", "level"], name="credit_prediction_levels")]

    def __str__(self) -> str:
        return f"{self.year}年度 预测{self.level}级 {self.score}分"

    @property
    def at_risk(self) -> bool:
        """An A predicted below A, or a B predicted C or D."""
        return (self.current_level == "A" and self.level != "A") or (
            self.current_level == "B" and self.level in ("C", "D")
        )


class CreditContact(models.Model):
    """One contact with a taxpayer about its rating: an SMS through the outbox, a call or a visit (上门辅导,
    including coaching on repair), with its outcome. An SMS about an open behaviour names the event, so that the
    same behaviour is never texted twice."""

    class Kind(models.TextChoices):
        SMS = "sms", "短信"
        CALL = "call", "电话"
        VISIT = "visit", "上门辅导"

    class Outcome(models.TextChoices):
        SENT = "sent", "已发送"
        NOT_SENT = "not_sent", "未能发送"
        REACHED = "reached", "已联系，已告知"
        WILL_CORRECT = "will_correct", "承诺纠正"
        CORRECTED = "corrected", "已纠正"
        NOT_REACHED = "not_reached", "未联系上"
        REFUSED = "refused", "拒绝配合"

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="credit_contacts"
    )
    kind = models.CharField("方式", max_length=10, choices=Kind.choices)
    outcome = models.CharField("结果", max_length=20, choices=Outcome.choices)
    note = models.CharField("说明", max_length=500, blank=True)
    event = models.ForeignKey(
        DishonestyEvent,
        verbose_name="失信行为",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    level = models.CharField("当时预测级别", max_length=1, choices=CreditLevel.choices, blank=True)
    sms = models.ForeignKey(
        "notify.SmsMessage", verbose_name="短信", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contacted_at = models.DateTimeField("联系时间")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "信用联系记录"
        verbose_name_plural = "信用联系记录"
        ordering = ["-contacted_at", "-id"]
        indexes = [models.Index(fields=["taxpayer", "-contacted_at"], name="credit_contact_by_taxpayer")]
        constraints = [
            models.UniqueConstraint(
                fields=["event"], condition=Q(kind="sms", event__isnull=False), name="credit_contact_one_sms_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_outcome_display()}"
