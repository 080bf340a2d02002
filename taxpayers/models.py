from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Branch
from core.fields import PeriodField, period_format_check

from .fields import MoneyField
from .progress import percent_done


class CreditLevel(models.TextChoices):
    """纳税信用级别 (国家税务总局公告2014年第40号 and 2025年的纳税缴费信用管理办法)."""

    A = "A", "A级"
    B = "B", "B级"
    M = "M", "M级"
    C = "C", "C级"
    D = "D", "D级"


class EnterpriseSize(models.TextChoices):
    """企业划型 (工信部联企业〔2011〕300号)."""

    MICRO = "micro", "微型"
    SMALL = "small", "小型"
    MEDIUM = "medium", "中型"
    LARGE = "large", "大型"


class SizeIndustry(models.TextChoices):
    """The rows of 工信部联企业〔2011〕300号 that decide the size thresholds."""

    AGRICULTURE = "agriculture", "农、林、牧、渔业"
    INDUSTRY = "industry", "工业"
    CONSTRUCTION = "construction", "建筑业"
    WHOLESALE = "wholesale", "批发业"
    RETAIL = "retail", "零售业"
    TRANSPORT = "transport", "交通运输业"
    WAREHOUSING = "warehousing", "仓储业"
    POSTAL = "postal", "邮政业"
    ACCOMMODATION = "accommodation", "住宿业"
    CATERING = "catering", "餐饮业"
    INFORMATION_TRANSMISSION = "information_transmission", "信息传输业"
    SOFTWARE_IT = "software_it", "软件和信息技术服务业"
    REAL_ESTATE_DEVELOPMENT = "real_estate_development", "房地产开发经营"
    PROPERTY_MANAGEMENT = "property_management", "物业管理"
    LEASING_BUSINESS_SERVICES = "leasing_business_services", "租赁和商务服务业"
    OTHER = "other", "其他未列明行业"


class Taxpayer(models.Model):
    """纳税人: master data as registered in the core tax system (金三).

    The 纳税信用级别 is not a column here: ratings are a history kept by the credit app, and pages read the
    latest one through ``taxpayers.ratings``."""

    class FilingFrequency(models.TextChoices):
        MONTHLY = "monthly", "按月申报"
        QUARTERLY = "quarterly", "按季申报"

    class Status(models.TextChoices):
        NORMAL = "normal", "正常"
        ABNORMAL = "abnormal", "非正常户"
        DEREGISTERED = "deregistered", "注销"

    identifier = models.CharField("纳税人识别号", max_length=20, unique=True)
    name = models.CharField("纳税人名称", max_length=200, db_index=True)
    branch = models.ForeignKey(Branch, verbose_name="主管税务机关", on_delete=models.PROTECT, related_name="taxpayers")
    status = models.CharField("状态", max_length=15, choices=Status.choices, default=Status.NORMAL)
    industry_code = models.CharField("行业代码", max_length=5, help_text="GB/T 4754-2017，如 C3411")
    registered_on = models.DateField("登记日期")
    general_taxpayer_since = models.DateField(
        "一般纳税人登记日期", null=True, blank=True, help_text="空表示小规模纳税人"
    )
    filing_frequency = models.CharField(
        "申报期限", max_length=10, choices=FilingFrequency.choices, default=FilingFrequency.MONTHLY
    )
    legal_rep_name = models.CharField("法定代表人", max_length=50, blank=True)
    legal_rep_mobile = models.CharField("法定代表人手机", max_length=11, blank=True)
    finance_contact_name = models.CharField("财务负责人", max_length=50, blank=True)
    finance_contact_mobile = models.CharField("财务负责人手机", max_length=11, blank=True)
    tax_handler_name = models.CharField("办税人", max_length=50, blank=True)
    tax_handler_mobile = models.CharField("办税人手机", max_length=11, blank=True)
    size = models.CharField("企业规模", max_length=10, choices=EnterpriseSize.choices, blank=True)
    size_industry = models.CharField("划型行业", max_length=30, choices=SizeIndustry.choices, blank=True)
    employees = models.PositiveIntegerField("从业人员", null=True, blank=True)
    prev_year_vat_sales = MoneyField("上年增值税销售额", null=True, blank=True)
    prev_year_months_operated = models.PositiveSmallIntegerField("上年经营月数", null=True, blank=True)
    total_assets_prev_year_end = MoneyField("上年末资产总额", null=True, blank=True)
    is_export_enterprise = models.BooleanField("出口企业", default=False)
    is_key_taxpayer = models.BooleanField("重点税源", default=False)
    # 银税互动 promotion puts these first (工信部 认定的专精特新、创新型中小企业); imported by the credit section.
    is_specialized_sme = models.BooleanField("专精特新企业", default=False, db_default=False)
    is_innovative_sme = models.BooleanField("创新型中小企业", default=False, db_default=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "纳税人"
        verbose_name_plural = "纳税人"
        ordering = ["identifier"]
        permissions = [("view_taxpayer_contacts", "查看完整识别号与联系电话")]
        indexes = [
            models.Index(fields=["branch", "industry_code"]),
            models.Index(fields=["updated_at"]),  # what changed since a screening ran
        ]
        constraints = [
            models.CheckConstraint(condition=Q(prev_year_vat_sales__gte=0), name="taxpayer_sales_non_negative"),
            models.CheckConstraint(
                condition=Q(total_assets_prev_year_end__gte=0), name="taxpayer_assets_non_negative"
            ),
            models.CheckConstraint(condition=Q(prev_year_months_operated__lte=12), name="taxpayer_months_max_12"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.identifier}）"

    @property
    def is_general_taxpayer(self) -> bool:
        return self.general_taxpayer_since is not None


INPUT_TAX_FIELDS = (
    "input_special_invoice",
    "input_motor_vehicle_invoice",
    "input_customs",
    "input_tax_payment_certificate",
    "input_toll_road_e_invoice",
    "input_air_e_invoice",
    "input_railway_e_ticket",
    "input_agricultural",
    "input_other",
)

RETURN_AMOUNT_FIELDS = (
    "sales_total",
    "output_tax",
    *INPUT_TAX_FIELDS,
    "input_transferred_out",
    "tax_payable",
    "end_credit",
    "credit_refunded",
    "vat_arrears",
    "approved_unbooked_export_refund",
)


class VatReturn(models.Model):
    """增值税纳税申报表: one per taxpayer and tax period (quarterly filers: period = the quarter's last month).

    Holds every figure the refund rules read (``refund.rules``): the period-end
    credit, input tax by voucher kind, sales by industry, and the adjustments.
    """

    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="returns")
    period = PeriodField("所属期", help_text="YYYY-MM")
    filed_on = models.DateField("申报日期", null=True, blank=True)
    sales_total = MoneyField("销售额合计", default=Decimal("0"))
    sales_by_industry = models.JSONField(
        "分行业销售额", default=dict, blank=True, help_text="{行业代码: 金额}；为空时全部计入主行业"
    )
    output_tax = MoneyField("销项税额", default=Decimal("0"))
    input_special_invoice = MoneyField("进项-增值税专用发票", default=Decimal("0"))
    input_motor_vehicle_invoice = MoneyField("进项-机动车销售统一发票", default=Decimal("0"))
    input_customs = MoneyField("进项-海关进口增值税专用缴款书", default=Decimal("0"))
    input_tax_payment_certificate = MoneyField("进项-解缴税款完税凭证", default=Decimal("0"))
    input_toll_road_e_invoice = MoneyField("进项-收费公路通行费电子普通发票", default=Decimal("0"))
    input_air_e_invoice = MoneyField("进项-航空运输电子客票行程单", default=Decimal("0"))
    input_railway_e_ticket = MoneyField("进项-铁路电子客票", default=Decimal("0"))
    input_agricultural = MoneyField("进项-农产品", default=Decimal("0"))
    input_other = MoneyField("进项-其他", default=Decimal("0"))
    input_transferred_out = MoneyField("进项税额转出", default=Decimal("0"))
    tax_payable = MoneyField("应纳税额", default=Decimal("0"))
    end_credit = MoneyField("期末留抵税额", default=Decimal("0"))
    credit_refunded = MoneyField("本期留抵退税额", default=Decimal("0"))
    vat_arrears = MoneyField("欠税", default=Decimal("0"))
    approved_unbooked_export_refund = MoneyField("已审批未入账免抵退税额", default=Decimal("0"))
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "增值税申报"
        verbose_name_plural = "增值税申报"
        ordering = ["taxpayer", "-period"]
        # updated_at: the returns changed since the refund states were last refreshed (a province's nightly check)
        indexes = [models.Index(fields=["period"]), models.Index(fields=["updated_at"])]
        constraints = [
            models.UniqueConstraint(fields=["taxpayer", "period"], name="vat_return_one_per_period"),
            period_format_check("period", name="vat_return_period_format"),
            *(
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"vat_return_{name}_non_negative")
                for name in RETURN_AMOUNT_FIELDS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.taxpayer_id} {self.period}"

    @property
    def input_tax_total(self) -> Decimal:
        return sum((getattr(self, name) for name in INPUT_TAX_FIELDS), Decimal("0"))


class ComplianceRecord(models.Model):
    """A compliance fact the refund rules look at: a penalty, a fraud finding, 即征即退 enjoyed or repaid."""

    class Kind(models.TextChoices):
        EVASION_PENALTY = "evasion_penalty", "偷税处罚"
        REFUND_FRAUD = "refund_fraud", "骗取留抵退税"
        EXPORT_REFUND_FRAUD = "export_refund_fraud", "骗取出口退税"
        FALSE_SPECIAL_INVOICE = "false_special_invoice", "虚开增值税专用发票"
        IMMEDIATE_REFUND = "immediate_refund", "享受即征即退/先征后返（退）"
        IMMEDIATE_REFUND_REPAID = "immediate_refund_repaid", "一次性缴回即征即退/先征后返（退）税款"

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="compliance_records"
    )
    kind = models.CharField("类型", max_length=30, choices=Kind.choices)
    occurred_on = models.DateField("发生日期", help_text="处理决定、认定或享受、缴回的日期")
    document_number = models.CharField("文书号", max_length=100)
    amount = MoneyField("金额", null=True, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "涉税合规记录"
        verbose_name_plural = "涉税合规记录"
        ordering = ["taxpayer", "-occurred_on"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.UniqueConstraint(fields=["taxpayer", "kind", "document_number"], name="compliance_record_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="compliance_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.document_number}"


INVOICE_SUMMARY_AMOUNT_FIELDS = ("input_amount", "input_tax", "abnormal_voucher_input_tax", "lost_control_input_tax")


class InvoiceSummary(models.Model):
    """发票汇总: one taxpayer's input invoices of one month as the invoice system (发票管理系统) sums them.

    The month is the one the invoices were taken in. Of the input tax, the part on 异常凭证 (abnormal vouchers,
    国家税务总局公告2019年第38号) and the part on 失控发票 (invoices of issuers found 走逃（失联）) are what the
    invoice-chain risk indicators read. The top supplier's share is not stored: it is derived from the
    ``SupplierInput`` rows (``taxpayers.invoice_selectors``), which are imported and corrected on their own.
    """

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="invoice_summaries"
    )
    period = PeriodField("所属期", help_text="YYYY-MM：取得发票的月份")
    input_amount = MoneyField("进项金额", default=Decimal("0"))
    input_tax = MoneyField("进项税额", default=Decimal("0"))
    abnormal_voucher_input_tax = MoneyField("异常凭证进项税额", default=Decimal("0"))
    lost_control_input_tax = MoneyField("失控发票进项税额", default=Decimal("0"))
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "发票汇总"
        verbose_name_plural = "发票汇总"
        ordering = ["taxpayer", "-period"]
        indexes = [models.Index(fields=["period"]), models.Index(fields=["updated_at"])]
        constraints = [
            models.UniqueConstraint(fields=["taxpayer", "period"], name="invoice_summary_one_per_period"),
            period_format_check("period", name="invoice_summary_period_format"),
            *(
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"invoice_summary_{name}_non_negative")
                for name in INVOICE_SUMMARY_AMOUNT_FIELDS
            ),
            models.CheckConstraint(
                condition=Q(abnormal_voucher_input_tax__lte=F("input_tax")),
                name="invoice_summary_abnormal_within_input",
            ),
            models.CheckConstraint(
                condition=Q(lost_control_input_tax__lte=F("input_tax")), name="invoice_summary_lost_within_input"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.taxpayer_id} {self.period}"


class SupplierStatus(models.TextChoices):
    """A supplier's registry status when the invoice data were exported (金三 纳税人状态)."""

    NORMAL = "normal", "正常"
    ABNORMAL = "abnormal", "非正常户"
    ABSCONDED = "absconded", "走逃（失联）"
    DEREGISTERED = "deregistered", "注销"


# The statuses whose invoices the invoice-chain indicators follow (a supplier that vanished after invoicing).
FLED_SUPPLIER_STATUSES = (SupplierStatus.ABNORMAL, SupplierStatus.ABSCONDED)


class SupplierInput(models.Model):
    """供应商进项明细: the input invoices one taxpayer took from one supplier in one month.

    Each row carries the supplier as the registry knew it at export: its registration date, its status and the
    day that status began — so "the supplier became 非正常户 or 走逃 within six months of the invoice" is read
    from the rows alone.
    """

    # No index of its own: the unique constraint below starts with the taxpayer (one index less to write per row).
    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name="纳税人", on_delete=models.CASCADE, related_name="supplier_inputs", db_index=False
    )
    period = PeriodField("所属期", help_text="YYYY-MM：取得发票的月份")
    supplier_identifier = models.CharField("供应商识别号", max_length=20)
    supplier_name = models.CharField("供应商名称", max_length=200)
    supplier_registered_on = models.DateField("供应商登记日期")
    supplier_status = models.CharField(
        "供应商状态", max_length=15, choices=SupplierStatus.choices, default=SupplierStatus.NORMAL
    )
    supplier_status_since = models.DateField("状态起始日期", null=True, blank=True, help_text="非正常、走逃、注销必填")
    input_amount = MoneyField("金额", default=Decimal("0"))
    input_tax = MoneyField("税额", default=Decimal("0"))
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "供应商进项明细"
        verbose_name_plural = "供应商进项明细"
        ordering = ["taxpayer", "-period", "-input_tax"]
        indexes = [
            models.Index(fields=["period"]),
            # The few rows the fled-supplier indicator reads, without scanning the rest.
            models.Index(
                fields=["period", "taxpayer"],
                condition=Q(supplier_status__in=["abnormal", "absconded"]),
                name="supplier_input_fled_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["taxpayer", "period", "supplier_identifier"], name="supplier_input_one_per_supplier_month"
            ),
            period_format_check("period", name="supplier_input_period_format"),
            models.CheckConstraint(condition=Q(input_amount__gte=0), name="supplier_input_amount_non_negative"),
            models.CheckConstraint(condition=Q(input_tax__gte=0), name="supplier_input_tax_non_negative"),
            models.CheckConstraint(
                condition=Q(supplier_status="normal") | Q(supplier_status_since__isnull=False),
                name="supplier_input_status_since_given",
            ),
            models.CheckConstraint(
                condition=Q(supplier_status_since__isnull=True)
                | Q(supplier_status_since__gte=F("supplier_registered_on")),
                name="supplier_input_status_after_registration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.taxpayer_id} {self.period} {self.supplier_identifier}"


class ImportJob(models.Model):
    """One uploaded file and what became of it. The upload is kept so a failed import can be inspected."""

    class Kind(models.TextChoices):
        TAXPAYERS = "taxpayers", "纳税人登记信息"
        RETURNS = "returns", "增值税申报表"
        COMPLIANCE = "compliance", "涉税合规记录"
        INVOICES = "invoices", "发票汇总"
        SUPPLIER_INPUTS = "supplier_inputs", "供应商进项明细"

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        VALIDATING = "validating", "校验中"
        APPLYING = "applying", "写入中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("导入类型", max_length=20, choices=Kind.choices)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("文件哈希", max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField("文件大小", default=0)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变化", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"

    @property
    def progress_percent(self) -> int:
        succeeded = self.status == self.Status.SUCCEEDED
        return percent_done(processed=self.processed_rows, total=self.total_rows, succeeded=succeeded)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class FilingDeadline(models.Model):
    """申报纳税期限: the last day of a month's filing period as published (national) or adjusted locally.

    Stored tables win over the rule in ``taxpayers.calendar``; a non-empty ``region`` is a provincial override.
    """

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    region = models.CharField(
        "地区", max_length=12, blank=True, default="", help_text="空表示全国；地方调整填写地区代码"
    )
    deadline = models.DateField("申报期限")
    source_document = models.CharField("文件依据", max_length=100, help_text="如 税总办征科函〔2021〕201号")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "申报期限"
        verbose_name_plural = "申报期限"
        ordering = ["year", "month", "region"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month", "region"], name="filing_deadline_unique_month_region"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="filing_deadline_month_1_12"),
        ]

    def __str__(self) -> str:
        where = self.region or "全国"
        return f"{self.year}-{self.month:02d} {where} {self.deadline.isoformat()}"
