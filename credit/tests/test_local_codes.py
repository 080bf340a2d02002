"""The bank-account rows, whose official indicator codes were not read, carry the rules' local codes: they import
(by code or by name), are held, backfilled, predicted and shown under their Chinese names end to end."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from credit.bulk import PastEvent, dishonesty_events_backfill
from credit.models import CreditPrediction, CreditRating, DishonestyEvent
from credit.rules.indicators import (
    BANK_ACCOUNT_REPORTED_LATE,
    BANK_ACCOUNTS_NOT_ALL_REPORTED,
    is_indicator_code,
)
from credit.services import credit_file_import
from credit.warnings.services import credit_predictions_refresh

from .helpers import xlsx_upload

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 15)
HEADER = ["纳税人识别号", "指标代码", "记录日期", "税（费）种", "所属期", "涉及税（费）款", "纠正日期", "首违不罚"]
NOT_ALL_REPORTED = "银行账户设置数大于经营主体向税务机关提供数"
REPORTED_LATE = "未按规定时限向主管税务机关报告开立（变更）账号"


def test_the_code_shapes():
    assert is_indicator_code("010101") and is_indicator_code(BANK_ACCOUNTS_NOT_ALL_REPORTED)
    assert not is_indicator_code("01010") and not is_indicator_code("BANK") and not is_indicator_code("")


def test_an_events_file_with_the_local_codes_and_names_imports(taxpayer_a):
    CreditRating.objects.create(
        taxpayer=taxpayer_a,
        year=2025,
        level="A",
        score=Decimal("95"),
        evaluated_on=dt.date(2026, 4, 18),
        rule_set="2025",
    )
    rows = [
        HEADER,
        [taxpayer_a.identifier, BANK_ACCOUNTS_NOT_ALL_REPORTED, "2026-05-10", "", "", None, None, "否"],
        [taxpayer_a.identifier, REPORTED_LATE + "（一次性）", "2026-05-20", "", "", None, None, "否"],
        [taxpayer_a.identifier, "bank-account-reported-late", "2026-06-01", "", "", None, "2026-06-02", "否"],
    ]
    record = credit_file_import(actor=None, kind="events", file=xlsx_upload(rows), today=TODAY)
    assert record.created_count == 3
    held = sorted(DishonestyEvent.objects.filter(taxpayer=taxpayer_a).values_list("indicator", flat=True))
    assert held == sorted([BANK_ACCOUNTS_NOT_ALL_REPORTED, BANK_ACCOUNT_REPORTED_LATE, BANK_ACCOUNT_REPORTED_LATE])
    assert {e.indicator_label for e in DishonestyEvent.objects.filter(taxpayer=taxpayer_a)} == {
        NOT_ALL_REPORTED,
        REPORTED_LATE,
    }

    credit_predictions_refresh(today=TODAY)
    prediction = CreditPrediction.objects.get(taxpayer=taxpayer_a, year=2026)
    names = {w["indicator_name"] for w in prediction.warnings}
    assert NOT_ALL_REPORTED + "（一次性）" in names  # the 11 points at stake, named as officers read them
    assert all("BANK" not in w["indicator_name"] for w in prediction.warnings)
    assert prediction.score == Decimal("90") - Decimal("11") - Decimal("5")  # one-off: the two late reports count once


def test_the_credit_page_shows_the_chinese_names(client_for, taxpayer_a):
    DishonestyEvent.objects.create(
        taxpayer=taxpayer_a, indicator=BANK_ACCOUNTS_NOT_ALL_REPORTED, recorded_on=dt.date(2026, 5, 10)
    )
    page = client_for("credit_officer").get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    assert NOT_ALL_REPORTED in page and BANK_ACCOUNTS_NOT_ALL_REPORTED not in page


def test_the_backfill_takes_the_local_codes(taxpayer_a):
    rows = [PastEvent(taxpayer_a.pk, BANK_ACCOUNT_REPORTED_LATE, dt.date(2024, 3, 1))]
    assert dishonesty_events_backfill(actor=None, rows=rows, today=TODAY, description="测试") == 1


def test_the_database_refuses_any_other_code(taxpayer_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        DishonestyEvent.objects.create(taxpayer=taxpayer_a, indicator="BANK", recorded_on=dt.date(2026, 5, 10))
