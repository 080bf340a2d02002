"""银税互动: the promotion list's contents, order and scoping, the outreach and loan records with their audit
events and refusals, the audited internal export, and the pages (no full identifier or phone in a list)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditEvent, User
from core.errors import ApplicationError, ConflictError
from credit.banktax import selectors, services
from credit.models import BankTaxLoan, BankTaxOutreach, CreditRating
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db

RATED_ON = dt.date(2026, 4, 18)
TODAY = dt.date(2026, 6, 15)


def _rated(branch, level, **fields):
    taxpayer = TaxpayerFactory(branch=branch, **fields)
    if level:
        CreditRating.objects.create(
            taxpayer=taxpayer, year=2025, level=level, score=None, evaluated_on=RATED_ON, rule_set="2025"
        )
    return taxpayer


@pytest.fixture
def county(org):
    a, b = org["branch_a"], org["branch_b"]
    return {
        "b_plain": _rated(a, "B", size="large", legal_rep_mobile="13900001234"),
        "a_small": _rated(a, "A", size="small"),
        "m_innovative": _rated(b, "M", is_innovative_sme=True, size="micro"),
        "b_specialized": _rated(b, "B", is_specialized_sme=True, size="small"),
        "c_specialized": _rated(a, "C", is_specialized_sme=True),
        "d": _rated(a, "D"),
        "unrated": _rated(a, ""),
        "abnormal_a": _rated(a, "A", status="abnormal"),
    }


def _user(username):
    return User.objects.get(username=username)


def test_the_list_holds_a_b_m_taxpayers_specialized_then_innovative_first(county, personas):
    rows = list(selectors.promotion_list(user=_user("service_officer"), on=TODAY))
    assert [t.pk for t in rows] == [
        county["b_specialized"].pk,
        county["m_innovative"].pk,
        county["a_small"].pk,
        county["b_plain"].pk,
    ]
    assert rows[0].rating_level == "B" and rows[0].rating_year == 2025
    # Before the rating took effect nobody is rated: the list is empty.
    assert not selectors.promotion_list(user=_user("service_officer"), on=RATED_ON - dt.timedelta(days=1)).exists()


def test_a_branch_officer_sees_only_its_branch_and_filters_narrow(county, personas):
    officer_a = _user("officer_a")
    assert {t.pk for t in selectors.promotion_list(user=officer_a, on=TODAY)} == {
        county["a_small"].pk,
        county["b_plain"].pk,
    }
    service = _user("service_officer")
    assert [t.pk for t in selectors.promotion_list(user=service, on=TODAY, filters={"flag": "either"})] == [
        county["b_specialized"].pk,
        county["m_innovative"].pk,
    ]
    assert [t.pk for t in selectors.promotion_list(user=service, on=TODAY, filters={"level": "A"})] == [
        county["a_small"].pk
    ]


def test_outreach_is_recorded_with_its_level_and_audited_and_refused_outside_a_b_m(county, personas):
    officer = _user("service_officer")
    outreach = services.banktax_outreach_record(
        actor=officer,
        taxpayer=county["b_plain"],
        told_on=TODAY,
        channel="phone",
        outcome="interested",
        note="有流动资金需求",
        today=TODAY,
    )
    assert outreach.level == "B" and outreach.officer == officer
    event = AuditEvent.objects.get(verb="banktax_outreach", object_id=str(outreach.pk))
    assert event.actor == officer and county["b_plain"].identifier not in event.summary
    with pytest.raises(ApplicationError) as refused:
        services.banktax_outreach_record(
            actor=officer, taxpayer=county["c_specialized"], told_on=TODAY, channel="visit", outcome="informed",
            today=TODAY,
        )  # fmt: skip
    assert "C" in refused.value.message
    with pytest.raises(ApplicationError):
        services.banktax_outreach_record(
            actor=officer, taxpayer=county["a_small"], told_on=TODAY + dt.timedelta(days=1), channel="phone",
            outcome="informed", today=TODAY,
        )  # fmt: skip
    assert BankTaxOutreach.objects.count() == 1
    rows = {t.pk: t for t in selectors.promotion_list(user=officer, on=TODAY, filters={"told": "interested"})}
    assert list(rows) == [county["b_plain"].pk] and rows[county["b_plain"].pk].last_told_on == TODAY


def test_a_loan_is_recorded_in_decimal_once_and_audited(county, personas):
    officer = _user("credit_officer")
    loan = services.banktax_loan_record(
        actor=officer,
        taxpayer=county["a_small"],
        bank="示范县农村商业银行",
        product="税易贷",
        amount=Decimal("500000.005"),
        granted_on=dt.date(2026, 5, 20),
        term_months=12,
        today=TODAY,
    )
    loan.refresh_from_db()
    assert loan.amount == Decimal("500000.01") and loan.entered_by == officer
    assert AuditEvent.objects.filter(verb="banktax_loan", object_id=str(loan.pk)).exists()
    with pytest.raises(ConflictError):
        services.banktax_loan_record(
            actor=officer, taxpayer=county["a_small"], bank="示范县农村商业银行", amount=Decimal("500000.01"),
            granted_on=dt.date(2026, 5, 20), term_months=12, today=TODAY,
        )  # fmt: skip
    for bad in ({"amount": Decimal("0")}, {"term_months": 0}, {"bank": " "}):
        with pytest.raises(ApplicationError):
            services.banktax_loan_record(
                **{"actor": officer, "taxpayer": county["a_small"], "bank": "某银行", "amount": Decimal("1"),
                   "granted_on": dt.date(2026, 5, 21), "term_months": 6, "today": TODAY, **bad},
            )  # fmt: skip
    assert BankTaxLoan.objects.count() == 1
    totals = selectors.loan_totals(selectors.loans_for_user(user=_user("supervisor")))
    assert (totals.count, totals.taxpayers, totals.amount) == (1, 1, Decimal("500000.01"))
    assert selectors.loans_for_user(user=_user("officer_b")).count() == 0


def test_the_pages_mask_identifiers_and_phones_and_say_no_list_goes_to_banks(county, client_for):
    client = client_for("service_officer")
    page = client.get(reverse("credit:banktax")).content.decode()
    assert county["b_plain"].name in page and county["c_specialized"].name not in page
    assert county["b_plain"].identifier not in page and "13900001234" not in page and "1234" in page
    assert "不向银行提供" in page and "电子税务局" in page
    detail = client.get(reverse("credit:banktax_taxpayer", args=[county["b_plain"].pk]))
    assert detail.status_code == 200 and "outreach-form" in detail.content.decode()
    response = client.post(
        reverse("credit:banktax_outreach_add", args=[county["b_plain"].pk]),
        {"told_on": timezone.localdate().isoformat(), "channel": "hall", "outcome": "informed"},
    )
    assert response.status_code == 302 and BankTaxOutreach.objects.filter(taxpayer=county["b_plain"]).exists()
    response = client.post(
        reverse("credit:banktax_loan_add", args=[county["b_plain"].pk]),
        {"bank": "示范银行", "amount": "300000", "granted_on": timezone.localdate().isoformat(), "term_months": "12"},
    )
    assert response.status_code == 302 and BankTaxLoan.objects.get().amount == Decimal("300000.00")
    loans = client.get(reverse("credit:banktax_loans")).content.decode()
    assert "示范银行" in loans and county["b_plain"].identifier not in loans
    # A branch officer views its own branch's taxpayers only and cannot record.
    officer_b = client_for("officer_b")
    assert officer_b.get(reverse("credit:banktax_taxpayer", args=[county["b_plain"].pk])).status_code == 404
    assert officer_b.post(reverse("credit:banktax_outreach_add", args=[county["b_plain"].pk])).status_code == 403


def test_the_internal_export_is_masked_and_audited_with_its_filters(county, client_for):
    response = client_for("credit_officer").get(reverse("credit:banktax_export") + "?flag=either")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    names = {row[1] for row in rows[1:] if row[1]}
    assert {county["b_specialized"].name, county["m_innovative"].name} <= names
    assert county["b_plain"].name not in names
    assert all(county["b_specialized"].identifier not in str(cell) for row in rows for cell in row)
    event = AuditEvent.objects.filter(verb="export", object_type="credit.banktaxoutreach").get()
    assert "flag=either" in event.summary


def test_the_list_page_takes_the_same_queries_for_more_rows(county, org, client_for):
    client = client_for("service_officer")
    client.get(reverse("credit:banktax"))  # warm the session and the menu
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("credit:banktax")).status_code == 200
    for _ in range(6):
        _rated(org["branch_a"], "B", is_specialized_sme=True)
    with CaptureQueriesContext(connection) as more:
        assert client.get(reverse("credit:banktax")).status_code == 200
    assert len(more) == len(few)
