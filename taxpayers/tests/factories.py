import datetime as dt
from decimal import Decimal

import factory

from accounts.models import Branch
from taxpayers.models import ComplianceRecord, Taxpayer, VatReturn
from taxpayers.validators import uscc_check_char


def make_uscc(n: int, region: str = "330106") -> str:
    """A valid 18-character 统一社会信用代码 for sequence number ``n`` (synthetic, belongs to nobody)."""
    body = f"91{region}MA{n:07d}"[:17]
    return body + uscc_check_char(body)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"第{n}税务分局")
    kind = Branch.Kind.BRANCH


class TaxpayerFactory(factory.django.DjangoModelFactory):
    """A registered taxpayer without a rating (ratings are the credit app's: its tests' factory adds one)."""

    class Meta:
        model = Taxpayer

    identifier = factory.Sequence(make_uscc)
    name = factory.Sequence(lambda n: f"示范制造有限公司{n}")
    branch = factory.SubFactory(BranchFactory)
    industry_code = "C3411"
    registered_on = dt.date(2015, 3, 1)
    general_taxpayer_since = dt.date(2015, 6, 1)
    legal_rep_name = "张三"
    legal_rep_mobile = "13800138000"
    finance_contact_name = "李四"
    finance_contact_mobile = "13912345678"


class VatReturnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VatReturn

    taxpayer = factory.SubFactory(TaxpayerFactory)
    period = "2025-10"
    sales_total = Decimal("1000000.00")
    output_tax = Decimal("130000.00")
    input_special_invoice = Decimal("150000.00")
    end_credit = Decimal("20000.00")


class ComplianceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComplianceRecord

    taxpayer = factory.SubFactory(TaxpayerFactory)
    kind = ComplianceRecord.Kind.EVASION_PENALTY
    occurred_on = dt.date(2024, 6, 1)
    document_number = factory.Sequence(lambda n: f"税稽罚〔2024〕{n}号")
