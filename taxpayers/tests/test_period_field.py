"""``VatReturn.period`` as a ``PeriodField``: lookups with text or a ``Period``, rows and values as ``Period``, and
the column's order still the months' order."""

import pytest
from django.db.models import Max

from core.periods import Period
from taxpayers.models import VatReturn

from .factories import TaxpayerFactory, VatReturnFactory

pytestmark = pytest.mark.django_db

MONTHS = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]


@pytest.fixture
def returns():
    taxpayer = TaxpayerFactory()
    for month in reversed(MONTHS):
        VatReturnFactory(taxpayer=taxpayer, period=month)
    return taxpayer


def periods(queryset) -> list[str]:
    return sorted(str(p) for p in queryset.values_list("period", flat=True))


def test_rows_values_and_aggregates_are_periods(returns):
    assert VatReturn.objects.filter(taxpayer=returns).first().period == Period(2026, 3)  # ordering -period
    assert set(VatReturn.objects.values_list("period", flat=True)) == {Period.parse(m) for m in MONTHS}
    assert VatReturn.objects.values("period").order_by("period").first() == {"period": Period(2025, 9)}
    assert VatReturn.objects.aggregate(last=Max("period")) == {"last": Period(2026, 3)}


def test_assigned_text_reads_back_as_a_period():
    vat_return = VatReturnFactory(period="2026-02")
    assert vat_return.period == Period(2026, 2)
    vat_return.period = "2026-03"
    assert vat_return.period == Period(2026, 3)
    vat_return.save()
    assert VatReturn.objects.get(pk=vat_return.pk).period == Period(2026, 3)


@pytest.mark.parametrize("wanted", ["2026-03", Period(2026, 3)])
def test_exact_takes_text_or_a_period(returns, wanted):
    assert periods(VatReturn.objects.filter(period=wanted)) == ["2026-03"]


@pytest.mark.parametrize(
    ("lookup", "value", "expected"),
    [
        ("gte", Period(2026, 1), MONTHS[4:]),
        ("gte", "2026-01", MONTHS[4:]),
        ("lte", Period(2025, 10), MONTHS[:2]),
        ("lt", "2025-11", MONTHS[:2]),
        ("in", [Period(2025, 9), "2026-02"], ["2025-09", "2026-02"]),
        ("range", (Period(2025, 12), "2026-01"), ["2025-12", "2026-01"]),
        ("startswith", "2026", MONTHS[4:]),
        ("startswith", Period(2025, 11), ["2025-11"]),
    ],
)
def test_comparisons_take_text_or_periods(returns, lookup, value, expected):
    assert periods(VatReturn.objects.filter(**{f"period__{lookup}": value})) == expected


def test_ordering_by_the_column_is_time_order(returns):
    assert [str(p) for p in VatReturn.objects.order_by("period").values_list("period", flat=True)] == MONTHS
    assert list(VatReturn.objects.order_by("-period").values_list("period", flat=True)) == sorted(
        (Period.parse(m) for m in MONTHS), reverse=True
    )
