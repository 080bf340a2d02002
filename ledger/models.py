from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import PeriodField
from refund.models import RefundApplication
from taxpayers.fields import MoneyField
from taxpayers.models import Taxpayer

SPLIT_TOLERANCE = Decimal("0.005")


class TreasuryPayment(models.Model):
    """退库: one payment by the treasury of an approved application (voucher number, amount, date).

    Entered by an officer or imported from the treasury's xlsx; entering it adds to what the application has been
    paid (部分退库 until the payments reach the confirmed amount, then 已退库) and writes its ``LedgerEntry`` in
    the same transaction. A voucher number is unique, so importing the same file twice pays nothing twice.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "人工录入"
        IMPORT = "import", "国库回执导入"

    application = models.ForeignKey(
        RefundApplication, verbose_name="申请", on_delete=models.PROTECT, related_name="payments"
    )
    voucher_number = models.CharField("退库凭证号", max_length=40, unique=True)
    amount = MoneyField("退库金额")
    paid_on = models.DateField("退库日期")
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.MANUAL)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "国库退库"
        verbose_name_plural = "国库退库"
        ordering = ["-paid_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="treasury_payment_positive")]

    def __str__(self) -> str:
        return f"{self.voucher_number} {self.amount}"


class LedgerRun(models.Model):
    """The morning registration of one day's refunds (每日退税台账登记): one row per day, so the 08:30 job
    and any retry of it register the day once and queue each bill once."""

    class Status(models.TextChoices):
        RUNNING = "running", "登记中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    day = models.DateField("退库日期", unique=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    entry_count = models.PositiveIntegerField("登记笔数", default=0)
    total_amount = MoneyField("登记金额", default=0)
    bill_count = models.PositiveIntegerField("账单短信", default=0)
    message = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "台账登记"
        verbose_name_plural = "台账登记"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} 台账登记"


class LedgerEntry(models.Model):
    """退税台账: one payment of a refund (an application paid in parts has one entry per part), with the figures
    the finance bureau, the treasury and the dashboards read — or one clawback of paid refund (追缴), a reversing
    entry whose amount and parts are negative, so that every sum over the ledger is the net refunded.

    The taxpayer's identifier, name, regime, size, industry and branch are copied at payment: the ledger
    shows what was true when the money left, whatever the taxpayer's record says later. A clawback copies them
    from the entries it reverses (``LedgerReversal``); its ``paid_on`` is the date of the 追缴 decision.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", "退库"
        CLAWBACK = "clawback", "追缴"

    class CreditCheck(models.TextChoices):
        PENDING = "pending", "待核对"
        REDUCED = "reduced", "已核减"
        NOT_REDUCED = "not_reduced", "未核减留抵"
        NOT_APPLICABLE = "none", "无需核对"

    kind = models.CharField("台账类型", max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    payment = models.OneToOneField(
        TreasuryPayment,
        verbose_name="退库",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
    )
    # 追缴 only: the decision's reference (unique, so a second submission of the same decision records nothing),
    # its reason and who recorded it.
    decision_reference = models.CharField("追缴决定文书号", max_length=60, null=True, blank=True, unique=True)
    reason = models.CharField("追缴原因", max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    application = models.ForeignKey(
        RefundApplication, verbose_name="申请", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="+")
    identifier = models.CharField("纳税人识别号", max_length=20)
    name = models.CharField("纳税人名称", max_length=200)
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name="主管税务机关", on_delete=models.PROTECT, related_name="+"
    )
    refund_kind = models.CharField("退税类型", max_length=12, choices=RefundApplication.Kind.choices)
    application_period = PeriodField("申请退税所属期")
    amount = MoneyField("退税额")
    incremental_amount = MoneyField("其中：增量")
    stock_amount = MoneyField("其中：存量")
    paid_on = models.DateField("退库日期")
    regime = models.CharField("适用政策", max_length=40, blank=True)
    size = models.CharField("企业规模", max_length=10, blank=True)
    industry_code = models.CharField("行业代码", max_length=5, blank=True)
    run = models.ForeignKey(
        LedgerRun, verbose_name="台账登记", null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    bill_sms = models.ForeignKey(
        "notify.SmsMessage",
        verbose_name="账单短信",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bill_error = models.CharField("未发账单的原因", max_length=200, blank=True)
    # 留抵核减: the return after the refund must show the credit reduced by it (上期留抵税额退税).
    credit_check = models.CharField(
        "留抵核减核对", max_length=12, choices=CreditCheck.choices, default=CreditCheck.PENDING
    )
    credit_check_period = PeriodField("核对所属期", blank=True)
    credit_check_note = models.CharField("核对说明", max_length=300, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "退税台账"
        verbose_name_plural = "退税台账"
        ordering = ["-paid_on", "-id"]
        permissions = [
            ("export_ledgerentry", "导出退税台账与清单"),
            ("register_ledger", "登记每日退税台账"),
            ("clawback_ledgerentry", "登记追缴"),
            ("view_clawbacks", "查看追缴记录"),
            ("export_clawbacks", "导出追缴记录"),
        ]
        indexes = [
            models.Index(fields=["paid_on", "id"], name="ledger_entry_day"),
            models.Index(fields=["branch", "paid_on"], name="ledger_entry_branch_day"),
            models.Index(fields=["taxpayer", "paid_on"], name="ledger_entry_taxpayer"),
            models.Index(fields=["kind", "paid_on"], name="ledger_entry_kind_day"),
        ]
        constraints = [
            # A payment: its treasury payment, nothing negative. A clawback: no payment, a decision, all negative.
            models.CheckConstraint(
                condition=(
                    Q(kind="payment", payment__isnull=False, incremental_amount__gte=0, stock_amount__gte=0)
                    | Q(
                        kind="clawback",
                        payment__isnull=True,
                        decision_reference__isnull=False,
                        amount__lt=0,
                        incremental_amount__lte=0,
                        stock_amount__lte=0,
                    )
                ),
                name="ledger_entry_kind_signs",
            ),
            # Amounts have two places, so a difference under half a cent is none; the band (rather than an
            # equality) keeps the check true on SQLite, which compares decimal columns as binary floats.
            models.CheckConstraint(
                condition=Q(amount__gt=models.F("incremental_amount") + models.F("stock_amount") - SPLIT_TOLERANCE)
                & Q(amount__lt=models.F("incremental_amount") + models.F("stock_amount") + SPLIT_TOLERANCE),
                name="ledger_split_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.paid_on.isoformat()} {self.name} {self.amount}"

    @property
    def is_clawback(self) -> bool:
        return self.kind == self.Kind.CLAWBACK

    @classmethod
    def of_payment(cls, payment: TreasuryPayment, *, taxpayer: Taxpayer, incremental, stock, **fields) -> "LedgerEntry":
        """The (unsaved) entry of ``payment``, with the taxpayer's and the application's figures copied as they are
        when the money leaves."""
        application = payment.application
        return cls(
            payment=payment,
            application=application,
            taxpayer=taxpayer,
            identifier=taxpayer.identifier,
            name=taxpayer.name,
            branch_id=taxpayer.branch_id,
            refund_kind=application.kind,
            application_period=application.application_period,
            amount=payment.amount,
            incremental_amount=incremental,
            stock_amount=stock,
            paid_on=payment.paid_on,
            regime=application.regime,
            size=application.size or taxpayer.size,
            industry_code=application.industry_code or taxpayer.industry_code,
            **fields,
        )


class LedgerReversal(models.Model):
    """What a clawback (追缴) reverses of one payment entry: the amount and its parts (positive figures here, the
    clawback entry carries them negative). A payment is never reversed beyond what it paid."""

    clawback = models.ForeignKey(
        LedgerEntry, verbose_name="追缴", on_delete=models.CASCADE, related_name="reversals"
    )
    reversed_entry = models.ForeignKey(
        LedgerEntry, verbose_name="被冲减的退库", on_delete=models.PROTECT, related_name="reversed_by"
    )
    amount = MoneyField("冲减金额")
    incremental_amount = MoneyField("其中：增量")
    stock_amount = MoneyField("其中：存量")

    class Meta:
        verbose_name = "追缴冲减"
        verbose_name_plural = "追缴冲减"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["clawback", "reversed_entry"], name="ledger_reversal_once"),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(incremental_amount__gte=0) & Q(stock_amount__gte=0),
                name="ledger_reversal_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reversed_entry_id} −{self.amount}"
