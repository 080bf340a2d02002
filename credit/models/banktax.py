"""银税互动 data: the service section telling A/B (and M) taxpayers about credit loans, and the loans they obtained.

No list of taxpayers goes to a bank: a bank reaches a taxpayer through the e-tax bureau (电子税务局) once the
taxpayer consents to share its credit data. What the office keeps is its own work — whom it told, when, how and
with what outcome — and the loans the taxpayer reports having obtained, entered by the service officer.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from taxpayers.fields import MoneyField
from taxpayers.models import CreditLevel, Taxpayer


class BankTaxOutreach(models.Model):
    """One time the office told a taxpayer about credit loans (银税互动宣传辅导): date, officer, channel, outcome,
    and the rating in force that day (what made it eligible). Never rewritten: each contact adds a row."""

    class Channel(models.TextChoices):
        PHONE = "phone", "电话"
        VISIT = "visit", "上门走访"
        HALL = "hall", "办税服务厅"
        SMS = "sms", "短信"
        MEETING = "meeting", "银税对接会"

    class Outcome(models.TextChoices):
        INFORMED = "informed", "已告知"
        INTERESTED = "interested", "有贷款意向"
        APPLIED = "applied", "已向银行申请"
        NO_NEED = "no_need", "暂无融资需求"
        NOT_REACHED = "not_reached", "未联系上"

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="banktax_outreach"
    )
    told_on = models.DateField("告知日期")
    channel = models.CharField("方式", max_length=10, choices=Channel.choices)
    outcome = models.CharField("结果", max_length=12, choices=Outcome.choices)
    level = models.CharField("当时信用级别", max_length=1, choices=CreditLevel.choices, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "银税互动宣传记录"
        verbose_name_plural = "银税互动宣传记录"
        ordering = ["-told_on", "-id"]
        permissions = [("export_banktaxoutreach", "Can export the bank-tax working list")]
        indexes = [models.Index(fields=["taxpayer", "-told_on"], name="banktax_outreach_by_taxpayer")]

    def __str__(self) -> str:
        return f"{self.told_on:%Y-%m-%d} {self.get_channel_display()} {self.get_outcome_display()}"


class BankTaxLoan(models.Model):
    """A credit loan (纳税信用贷) the taxpayer obtained from a bank, as it reported it to the service officer."""

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="banktax_loans"
    )
    bank = models.CharField("贷款银行", max_length=60)
    product = models.CharField("贷款产品", max_length=60, blank=True)
    amount = MoneyField("贷款金额（元）")
    granted_on = models.DateField("放款日期")
    term_months = models.PositiveSmallIntegerField("期限（月）")
    note = models.CharField("说明", max_length=300, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "银税互动贷款"
        verbose_name_plural = "银税互动贷款"
        ordering = ["-granted_on", "-id"]
        indexes = [models.Index(fields=["taxpayer", "-granted_on"], name="banktax_loan_by_taxpayer")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="banktax_loan_amount_positive"),
            models.CheckConstraint(condition=Q(term_months__gte=1, term_months__lte=360), name="banktax_loan_term"),
            models.UniqueConstraint(
                fields=["taxpayer", "bank", "granted_on", "amount"], name="banktax_loan_entered_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank} {self.amount} 元（{self.granted_on:%Y-%m-%d}）"
