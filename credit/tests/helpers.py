"""Arrangements the credit tests share: an xlsx upload from rows, a taxpayer rated C with a late return to repair,
and a case received through the service."""

import datetime as dt
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from credit.models import CreditRating, DishonestyEvent
from credit.repairs import services

RATED_ON = dt.date(2026, 4, 18)
RECEIVED_ON = dt.date(2026, 5, 11)  # a Monday


def xlsx_upload(rows: list[list], name: str = "credit.xlsx") -> SimpleUploadedFile:
    """An uploaded xlsx whose first sheet holds ``rows`` (the first is the header)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/vnd.ms-excel")


def rated_with_a_late_return(taxpayer) -> DishonestyEvent:
    """``taxpayer`` rated C (69 points) for 2025, with a late VAT return corrected after the rating: a repair
    under the 2025 rules restores 40 % of its 5 points."""
    CreditRating.objects.create(
        taxpayer=taxpayer, year=2025, level="C", score=Decimal("69"), evaluated_on=RATED_ON, rule_set="2025"
    )
    return DishonestyEvent.objects.create(
        taxpayer=taxpayer,
        indicator="010101",
        recorded_on=dt.date(2025, 8, 16),
        tax="增值税",
        amount=Decimal("5000"),
        corrected_on=dt.date(2026, 5, 6),
    )


def receive_case(actor, taxpayer, corrections, *, kind="repair", year=2025, received_on=RECEIVED_ON, **extra):
    """A case received with the application's usual contact data."""
    return services.credit_case_receive(
        actor=actor,
        taxpayer=taxpayer,
        kind=kind,
        year=year,
        corrections=corrections,
        contact_name="王会计",
        contact_phone="13800138000",
        received_on=received_on,
        **extra,
    )
