"""Late-return events derived from the VAT returns held and the filing calendar."""

import datetime as dt
from decimal import Decimal

import pytest

from core.periods import Period
from credit.models import DishonestyEvent
from credit.services import late_returns_derive
from taxpayers.models import FilingDeadline, Taxpayer
from taxpayers.tests.factories import TaxpayerFactory, VatReturnFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 30)


def _deadline(year, month, day):
    FilingDeadline.objects.update_or_create(
        year=year, month=month, region="", defaults={"deadline": dt.date(year, month, day), "source_document": "测试"}
    )


@pytest.fixture
def calendar():
    """January to June 2026: the 15th, except February's and May's extended by holidays."""
    for month, day in ((1, 15), (2, 26), (3, 16), (4, 20), (5, 22), (6, 15)):
        _deadline(2026, month, day)


def _events(taxpayer):
    return {
        str(e.period): (e.recorded_on, e.corrected_on)
        for e in DishonestyEvent.objects.filter(taxpayer=taxpayer, source="derived").order_by("period")
    }


def test_late_on_time_and_missing_monthly_returns(calendar):
    taxpayer = TaxpayerFactory()
    VatReturnFactory(taxpayer=taxpayer, period="2025-12", filed_on=dt.date(2026, 1, 15))  # on the deadline: on time
    VatReturnFactory(taxpayer=taxpayer, period="2026-01", filed_on=dt.date(2026, 2, 26))  # extended deadline: on time
    VatReturnFactory(taxpayer=taxpayer, period="2026-02", filed_on=dt.date(2026, 3, 17), tax_payable=Decimal("1800"))
    # 2026-03 not filed at all: open from the day after its deadline
    VatReturnFactory(taxpayer=taxpayer, period="2026-04", filed_on=None)  # held without a date: not judged
    counts = late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert _events(taxpayer) == {
        "2026-02": (dt.date(2026, 3, 17), dt.date(2026, 3, 17)),
        "2026-03": (dt.date(2026, 4, 21), None),
        "2026-05": (dt.date(2026, 6, 16), None),  # due by 2026-06-15, nothing held
    }
    assert counts.created == 3
    late = DishonestyEvent.objects.get(taxpayer=taxpayer, period="2026-02")
    assert (late.indicator, late.tax, late.amount) == ("010101", "增值税", Decimal("1800.00"))


def test_a_period_whose_deadline_has_not_passed_is_not_due(calendar):
    taxpayer = TaxpayerFactory()
    VatReturnFactory(taxpayer=taxpayer, period="2026-04", filed_on=dt.date(2026, 5, 10))
    late_returns_derive(today=dt.date(2026, 6, 15), taxpayer_ids=[taxpayer.pk])  # May's deadline is that day
    assert _events(taxpayer) == {}
    late_returns_derive(today=dt.date(2026, 6, 16), taxpayer_ids=[taxpayer.pk])
    assert _events(taxpayer) == {"2026-05": (dt.date(2026, 6, 16), None)}


def test_quarterly_filers_owe_the_quarter_end_months_only(calendar):
    taxpayer = TaxpayerFactory(filing_frequency=Taxpayer.FilingFrequency.QUARTERLY)
    VatReturnFactory(taxpayer=taxpayer, period="2025-12", filed_on=dt.date(2026, 1, 14))
    VatReturnFactory(taxpayer=taxpayer, period="2026-03", filed_on=dt.date(2026, 4, 21))  # a day after April's 20th
    late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert _events(taxpayer) == {"2026-03": (dt.date(2026, 4, 21), dt.date(2026, 4, 21))}


def test_an_extended_deadline_moves_the_record_and_can_clear_the_event(calendar):
    taxpayer = TaxpayerFactory()
    VatReturnFactory(taxpayer=taxpayer, period="2026-03", filed_on=dt.date(2026, 4, 20))
    VatReturnFactory(taxpayer=taxpayer, period="2026-04", filed_on=dt.date(2026, 5, 25))
    VatReturnFactory(taxpayer=taxpayer, period="2026-05", filed_on=dt.date(2026, 6, 10))
    _deadline(2026, 5, 20)  # published first without the extension
    late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert _events(taxpayer) == {"2026-04": (dt.date(2026, 5, 21), dt.date(2026, 5, 25))}
    _deadline(2026, 5, 22)  # extended: still late, recorded later, the same event
    counts = late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert (counts.created, counts.updated) == (0, 1)
    assert _events(taxpayer) == {"2026-04": (dt.date(2026, 5, 23), dt.date(2026, 5, 25))}
    _deadline(2026, 5, 26)  # extended past the filing: no longer late
    counts = late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert counts.removed == 1 and _events(taxpayer) == {}


def test_deriving_twice_changes_nothing_and_a_late_import_of_the_return_closes_the_gap(calendar):
    taxpayer = TaxpayerFactory()
    VatReturnFactory(taxpayer=taxpayer, period="2026-04", filed_on=dt.date(2026, 5, 20))
    VatReturnFactory(taxpayer=taxpayer, period="2026-05", filed_on=dt.date(2026, 6, 12))
    late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    before = list(DishonestyEvent.objects.values_list("pk", "updated_at"))
    counts = late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert (counts.created, counts.updated, counts.removed, counts.unchanged) == (0, 0, 0, 0)
    assert list(DishonestyEvent.objects.values_list("pk", "updated_at")) == before
    assert before == []
    missing = TaxpayerFactory()
    VatReturnFactory(taxpayer=missing, period="2026-03", filed_on=dt.date(2026, 4, 10))
    VatReturnFactory(taxpayer=missing, period="2026-05", filed_on=dt.date(2026, 6, 10))
    late_returns_derive(today=TODAY, taxpayer_ids=[missing.pk])
    assert _events(missing) == {"2026-04": (dt.date(2026, 5, 23), None)}
    VatReturnFactory(taxpayer=missing, period="2026-04", filed_on=dt.date(2026, 6, 1))  # filed late since
    counts = late_returns_derive(today=TODAY, taxpayer_ids=[missing.pk])
    assert counts.updated == 1
    assert _events(missing) == {"2026-04": (dt.date(2026, 5, 23), dt.date(2026, 6, 1))}


def test_a_deregistered_taxpayer_owes_nothing_after_its_last_return(calendar):
    taxpayer = TaxpayerFactory(status=Taxpayer.Status.DEREGISTERED)
    VatReturnFactory(taxpayer=taxpayer, period="2026-02", filed_on=dt.date(2026, 3, 10))
    late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert _events(taxpayer) == {}


def test_imported_events_are_left_alone(calendar):
    taxpayer = TaxpayerFactory()
    imported = DishonestyEvent.objects.create(
        taxpayer=taxpayer, indicator="010101", tax="增值税", recorded_on=dt.date(2026, 2, 27), period=Period(2026, 1)
    )
    VatReturnFactory(taxpayer=taxpayer, period="2026-05", filed_on=dt.date(2026, 6, 10))
    late_returns_derive(today=TODAY, taxpayer_ids=[taxpayer.pk])
    assert DishonestyEvent.objects.filter(pk=imported.pk).exists()
