"""留抵核减核对: the return of the payment period must show 本期留抵退税额 at least the refund."""

import datetime as dt
from decimal import Decimal

import pytest

from core.periods import Period
from ledger.models import LedgerEntry
from ledger.services import ledger_check_credit_reduction, payment_record, return_period_of
from ledger.tests.factories import approved_application
from taxpayers.models import ImportJob, Taxpayer
from taxpayers.signals import import_applied
from taxpayers.tests.factories import VatReturnFactory

pytestmark = pytest.mark.django_db


def _entry(taxpayer, actor, paid_on=dt.date(2026, 3, 25)):
    app = approved_application(taxpayer)
    return payment_record(
        actor=actor, application=app, voucher_number=f"V-{taxpayer.pk}", amount=app.confirmed_amount, paid_on=paid_on
    )


def test_a_return_showing_the_refund_marks_the_entry_reduced_when_it_is_imported(personas, taxpayer_a):
    entry = _entry(taxpayer_a, personas["refund_officer"])
    VatReturnFactory(taxpayer=taxpayer_a, period="2026-02", credit_refunded=Decimal("0"))  # an earlier period
    import_applied.send(sender=ImportJob, kind=ImportJob.Kind.RETURNS, job_id=0)
    entry.refresh_from_db()
    assert entry.credit_check == "pending"

    VatReturnFactory(taxpayer=taxpayer_a, period="2026-03", credit_refunded=Decimal("100000.00"))
    import_applied.send(sender=ImportJob, kind=ImportJob.Kind.RETURNS, job_id=0)
    entry.refresh_from_db()
    assert (entry.credit_check, entry.credit_check_period) == ("reduced", Period(2026, 3))
    assert entry.credit_check_note == "2026年03月申报表本期留抵退税额 100,000.00 元，不低于当期退库 100,000.00 元"


def test_a_return_not_showing_the_refund_is_flagged_and_a_corrected_one_clears_it(personas, taxpayer_a):
    entry = _entry(taxpayer_a, personas["refund_officer"])
    vat_return = VatReturnFactory(taxpayer=taxpayer_a, period="2026-03", credit_refunded=Decimal("99999.99"))

    assert ledger_check_credit_reduction() == {"reduced": 0, "not_reduced": 1, "pending": 0}
    entry.refresh_from_db()
    assert (entry.credit_check, entry.credit_check_period) == ("not_reduced", Period(2026, 3))
    assert "低于当期退库 100,000.00 元：留抵税额未按退税额核减" in entry.credit_check_note

    vat_return.credit_refunded = Decimal("100000.00")
    vat_return.save()
    ledger_check_credit_reduction(taxpayer_ids=[taxpayer_a.pk])
    entry.refresh_from_db()
    assert entry.credit_check == "reduced"


def test_other_import_kinds_do_not_check(personas, taxpayer_a):
    entry = _entry(taxpayer_a, personas["refund_officer"])
    VatReturnFactory(taxpayer=taxpayer_a, period="2026-03", credit_refunded=Decimal("0"))
    import_applied.send(sender=ImportJob, kind=ImportJob.Kind.TAXPAYERS, job_id=0)
    entry.refresh_from_db()
    assert entry.credit_check == "pending"


def test_a_quarterly_filer_is_checked_against_its_quarter(personas, taxpayer_a):
    taxpayer_a.filing_frequency = Taxpayer.FilingFrequency.QUARTERLY
    taxpayer_a.save()
    assert return_period_of(dt.date(2026, 2, 10), "quarterly") == Period(2026, 3)
    assert return_period_of(dt.date(2026, 2, 10), "monthly") == Period(2026, 2)
    entry = _entry(taxpayer_a, personas["refund_officer"], paid_on=dt.date(2026, 3, 21))
    VatReturnFactory(taxpayer=taxpayer_a, period="2026-03", credit_refunded=Decimal("0"))
    ledger_check_credit_reduction()
    entry.refresh_from_db()
    assert (entry.credit_check, entry.credit_check_period) == ("not_reduced", Period(2026, 3))


def test_two_refunds_paid_in_one_period_must_both_show(personas, taxpayer_a):
    officer = personas["refund_officer"]
    first = approved_application(taxpayer_a, period="2026-02")
    second = approved_application(taxpayer_a, period="2026-03", kind="incremental", incremental="20000.00")
    for app, voucher in ((first, "V-1"), (second, "V-2")):
        payment_record(
            actor=officer,
            application=app,
            voucher_number=voucher,
            amount=app.confirmed_amount,
            paid_on=dt.date(2026, 3, 25),
        )
    VatReturnFactory(taxpayer=taxpayer_a, period="2026-03", credit_refunded=Decimal("100000.00"))
    ledger_check_credit_reduction()
    assert set(LedgerEntry.objects.values_list("credit_check", flat=True)) == {"not_reduced"}
