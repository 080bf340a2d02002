"""Crafted taxpayers, returns, ratings and applications for the indicator tests (as of ``AS_OF``)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from credit.models import CreditRating
from refund.models import ApplicationTransition, RefundApplication
from risk.indicators import INDICATORS, Scope
from taxpayers.models import InvoiceSummary, SupplierInput, VatReturn
from taxpayers.tests.factories import TaxpayerFactory

AS_OF = dt.date(2026, 3, 10)  # the last month filed: 2026-02
_mobiles = itertools.count(13700000000)


def taxpayer(**fields):
    """A taxpayer whose three mobiles are its own (the factory's default mobiles are shared by all)."""
    for name in ("legal_rep_mobile", "finance_contact_mobile", "tax_handler_mobile"):
        fields.setdefault(name, str(next(_mobiles)))
    return TaxpayerFactory(**fields)


def vat_return(
    tp, period: str, *, sales="0", input_tax="0", end_credit="0", tax_payable="0", by_industry=None
) -> VatReturn:
    return VatReturn.objects.create(
        taxpayer=tp,
        period=period,
        sales_total=Decimal(sales),
        input_special_invoice=Decimal(input_tax),
        end_credit=Decimal(end_credit),
        tax_payable=Decimal(tax_payable),
        sales_by_industry=by_industry or {},
    )


def months(first: str, last: str) -> list[str]:
    from core.periods import Period, period_range

    return [str(p) for p in period_range(Period.parse(first), Period.parse(last))]


def rating(tp, *, year: int, level: str, on: dt.date, basis: str = "evaluated") -> CreditRating:
    return CreditRating.objects.create(
        taxpayer=tp, year=year, level=level, evaluated_on=on, basis=basis, rule_set="2014" if year < 2025 else "2025"
    )


def application(tp, *, received_on: dt.date, claimed="100000", state="received", **fields) -> RefundApplication:
    period = f"{received_on.year:04d}-{received_on.month:02d}"
    return RefundApplication.objects.create(
        taxpayer=tp,
        branch=tp.branch,
        application_period=period,
        kind="both",
        received_on=received_on,
        due_on=received_on + dt.timedelta(days=14),
        claimed_amount=Decimal(claimed),
        state=state,
        **fields,
    )


def returned_on(app: RefundApplication, day: dt.date, to_state: str = "returned") -> ApplicationTransition:
    from django.utils import timezone

    move = ApplicationTransition.objects.create(application=app, from_state="received", to_state=to_state)
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    ApplicationTransition.objects.filter(pk=move.pk).update(created_at=at)
    return move


def fired(code: str, *, taxpayer_ids=None, as_of: dt.date = AS_OF, **values) -> dict[int, dict]:
    """{taxpayer id: evidence} of indicator ``code`` over every taxpayer (or the ones given), defaults unless told."""
    indicator = INDICATORS[code]
    bound = {name: indicator.parameter(name).parse(value) for name, value in values.items()}
    scope = Scope(as_of=as_of, taxpayer_ids=None if taxpayer_ids is None else tuple(taxpayer_ids))
    return dict(indicator.run(scope, bound))


def invoice_month(tp, period: str, *, input_tax: str, abnormal: str = "0", lost: str = "0") -> InvoiceSummary:
    """One month's 发票汇总 (the input amount at 13%)."""
    return InvoiceSummary.objects.create(
        taxpayer=tp,
        period=period,
        input_amount=(Decimal(input_tax) * 100 / 13).quantize(Decimal("0.01")),
        input_tax=Decimal(input_tax),
        abnormal_voucher_input_tax=Decimal(abnormal),
        lost_control_input_tax=Decimal(lost),
    )


def supplier_month(
    tp,
    period: str,
    identifier: str,
    tax: str,
    *,
    registered_on: dt.date = dt.date(2010, 1, 1),
    status: str = "normal",
    since: dt.date | None = None,
) -> SupplierInput:
    """One supplier's input invoices of one month to ``tp`` (the amount at 13%)."""
    return SupplierInput.objects.create(
        taxpayer=tp,
        period=period,
        supplier_identifier=identifier,
        supplier_name=f"供应商{identifier[-4:]}有限公司",
        supplier_registered_on=registered_on,
        supplier_status=status,
        supplier_status_since=since,
        input_amount=(Decimal(tax) * 100 / 13).quantize(Decimal("0.01")),
        input_tax=Decimal(tax),
    )


def assert_fires_only_on(code: str, risky, clean) -> dict:
    """The indicator fires on ``risky`` and not on ``clean``, over all taxpayers and narrowed to each, with the
    same evidence either way (the on-demand scan of one application equals the set-based one)."""
    hits = fired(code)
    assert risky.pk in hits and clean.pk not in hits, hits
    assert fired(code, taxpayer_ids=[risky.pk]) == {risky.pk: hits[risky.pk]}
    assert fired(code, taxpayer_ids=[clean.pk]) == {}
    return hits[risky.pk]
