"""Filing deadlines: working-day helpers, the deadline rule, stored tables, the admin entry page."""

import importlib
import json
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.urls import reverse

from accounts.models import AuditEvent
from taxpayers import calendar as cal
from taxpayers.calendar_services import filing_table_save
from taxpayers.models import FilingDeadline

SEED = json.loads((Path(__file__).resolve().parents[1] / "data" / "filing_deadlines.json").read_text("utf-8"))
PUBLISHED = [
    (int(year), int(month), date.fromisoformat(deadline))
    for year, months in SEED["tables"].items()
    for month, deadline in months.items()
]
# What the rule gives for years with no stored table. The rule reproduces the
# published 2025 (税总办征科函〔2024〕71号) and 2026 (税总办征科函〔2025〕64号) tables.
RULE_2024 = ["01-15", "02-23", "03-15", "04-18", "05-22", "06-19", "07-15", "08-15", "09-18", "10-24", "11-15", "12-16"]
RULE_2025 = ["01-15", "02-20", "03-17", "04-18", "05-22", "06-16", "07-15", "08-15", "09-15", "10-27", "11-17", "12-15"]
RULE_2026 = ["01-20", "02-24", "03-16", "04-20", "05-22", "06-15", "07-15", "08-17", "09-15", "10-26", "11-16", "12-15"]
RULE_BY_YEAR = {2024: RULE_2024, 2025: RULE_2025, 2026: RULE_2026}


def _seed():
    """Run the data migration's function again (it must be idempotent)."""
    module = importlib.import_module("taxpayers.migrations.0003_seed_filing_deadlines")
    module.seed(global_apps, None)


# --- seed data -----------------------------------------------------------------------------------------------


def test_seed_file_matches_the_published_tables_of_protocols():
    assert SEED["sources"] == {"2022": "税总办征科函〔2021〕201号", "2023": "税总办征科函〔2022〕245号"}
    assert len(PUBLISHED) == 24
    assert SEED["tables"]["2022"]["10"] == "2022-10-25"
    assert SEED["tables"]["2023"]["01"] == "2023-01-16"


@pytest.mark.django_db
def test_seed_migration_stores_2022_and_2023_and_never_overwrites_edits():
    _seed()
    assert FilingDeadline.objects.filter(region="").count() == 24
    row = FilingDeadline.objects.get(year=2022, month=2, region="")
    assert row.deadline == date(2022, 2, 23)
    assert row.source_document == "税总办征科函〔2021〕201号"
    row.deadline = date(2022, 2, 24)
    row.save()
    FilingDeadline.objects.filter(year=2023, month=5).delete()
    _seed()
    assert FilingDeadline.objects.get(year=2022, month=2, region="").deadline == date(2022, 2, 24)
    assert FilingDeadline.objects.get(year=2023, month=5, region="").deadline == date(2023, 5, 18)
    assert FilingDeadline.objects.filter(region="").count() == 24


# --- working days --------------------------------------------------------------------------------------------


def test_working_day_helpers_know_holidays_and_make_up_days():
    assert cal.is_working_day(date(2024, 10, 1)) is False  # 国庆
    assert cal.is_working_day(date(2024, 10, 12)) is True  # make-up Saturday
    assert cal.is_working_day(date(2024, 10, 13)) is False  # Sunday
    assert cal.next_working_day(date(2024, 10, 1)) == date(2024, 10, 8)
    assert cal.next_working_day(date(2024, 10, 8)) == date(2024, 10, 8)
    assert cal.last_working_day_of_month(2024, 3) == date(2024, 3, 29)  # 30, 31 weekend
    assert cal.last_working_day_of_month(2022, 1) == date(2022, 1, 30)  # make-up Sunday
    assert cal.add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert cal.add_working_days(date(2024, 9, 30), 0) == date(2024, 9, 30)
    assert cal.working_days_between(date(2024, 9, 27), date(2024, 10, 8)) == 3  # 29th, 30th, 8th
    assert cal.working_days_between(date(2024, 10, 8), date(2024, 10, 8)) == 0


def test_past_the_holiday_data_a_typed_chinese_error_not_a_guess():
    for call in (
        lambda: cal.is_working_day(date(2027, 1, 4)),
        lambda: cal.next_working_day(date(2027, 1, 1)),
        lambda: cal.last_working_day_of_month(2027, 1),
        lambda: cal.add_working_days(date(2026, 12, 31), 1),
        lambda: cal.working_days_between(date(2026, 12, 30), date(2027, 1, 5)),
        lambda: cal.rule_deadline(2027, 1),
    ):
        with pytest.raises(cal.CalendarUnavailable) as excinfo:
            call()
        assert excinfo.value.year == 2027
        assert excinfo.value.code == "no_calendar"
        assert "2027年节假日数据" in excinfo.value.message
    assert cal.has_holiday_data(2026) is True
    assert cal.has_holiday_data(2027) is False


def test_clocks_that_estimate_count_monday_to_friday_past_the_data_and_the_calendar_before_it():
    # 2026-12-18 (Fri) + 10: 21–25, 28–31 December 2026 from the data, then Friday 1 January 2027 by weekday
    # (the published table would make it a holiday: the estimate says so in its name).
    assert cal.add_working_days(date(2026, 12, 18), 10, estimate=True) == date(2027, 1, 1)
    assert cal.working_days_between(date(2026, 12, 30), date(2027, 1, 5), estimate=True) == 4  # 31, 1, 4, 5
    assert cal.is_working_day(date(2027, 1, 2), estimate=True) is False
    # Inside the data nothing changes: National Day 2026 is a holiday, the make-up Saturday a working day.
    assert cal.is_working_day(date(2026, 10, 1), estimate=True) is False
    assert cal.add_working_days(date(2026, 9, 30), 1, estimate=True) == cal.add_working_days(date(2026, 9, 30), 1)


# --- the deadline rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "month", "published"), PUBLISHED)
def test_rule_reproduces_every_published_month_of_2022_and_2023(year, month, published):
    assert cal.rule_deadline(year, month) == published


def test_holiday_extension_counts_only_runs_of_three_inside_days_1_to_15():
    assert cal.holiday_extension(2022, 10) == 7  # 1–7 Oct; 8–9 Oct are make-up working days
    assert cal.holiday_extension(2023, 10) == 6  # 29 Sep–6 Oct: only 1–6 inside the window
    assert cal.holiday_extension(2022, 3) == 0  # weekends only (runs of 2)
    assert cal.holiday_extension(2023, 1) == 0  # 31 Dec–2 Jan: only 2 days inside the window
    assert cal.holiday_extension(2022, 2) == 6  # 31 Jan–6 Feb: 1–6 Feb inside the window


@pytest.mark.parametrize("year", sorted(RULE_BY_YEAR))
def test_rule_for_2024_to_2026(year):
    assert [cal.rule_deadline(year, m).strftime("%m-%d") for m in range(1, 13)] == RULE_BY_YEAR[year]


# --- deadline_for: stored table first ------------------------------------------------------------------------


@pytest.mark.django_db
def test_deadline_for_uses_the_stored_table_then_the_rule():
    _seed()
    assert cal.deadline_for(2022, 10) == (date(2022, 10, 25), "official")
    assert cal.deadline_for(2024, 10) == (date(2024, 10, 24), "rule")
    # An official value that differs from the rule wins.
    FilingDeadline.objects.filter(year=2023, month=6, region="").update(deadline=date(2023, 6, 16))
    assert cal.deadline_for(2023, 6) == (date(2023, 6, 16), "official")


@pytest.mark.django_db
@pytest.mark.parametrize(("year", "month", "published"), PUBLISHED)
def test_without_stored_tables_the_rule_alone_gives_the_published_deadlines(year, month, published):
    FilingDeadline.objects.all().delete()
    assert cal.deadline_for(year, month) == (published, "rule")


@pytest.mark.django_db
def test_a_regional_override_wins_over_the_national_table_for_that_region_only():
    _seed()
    FilingDeadline.objects.create(
        year=2023, month=7, region="4400", deadline=date(2023, 7, 20), source_document="粤税函〔2023〕1号"
    )
    FilingDeadline.objects.create(
        year=2024, month=8, region="4400", deadline=date(2024, 8, 16), source_document="粤税函〔2024〕1号"
    )
    assert cal.deadline_for(2023, 7, "4400") == (date(2023, 7, 20), "official")
    assert cal.deadline_for(2023, 8, "4400") == (date(2023, 8, 15), "official")  # national row
    assert cal.deadline_for(2023, 7) == (date(2023, 7, 17), "official")
    assert cal.deadline_for(2023, 7, "3300") == (date(2023, 7, 17), "official")
    assert cal.deadline_for(2024, 8, "4400") == (date(2024, 8, 16), "official")
    assert cal.deadline_for(2024, 8) == (date(2024, 8, 15), "rule")


@pytest.mark.django_db
def test_a_stored_table_answers_even_without_holiday_data():
    FilingDeadline.objects.create(year=2027, month=1, deadline=date(2027, 1, 15), source_document="测试")
    assert cal.deadline_for(2027, 1) == (date(2027, 1, 15), "official")
    with pytest.raises(cal.CalendarUnavailable):
        cal.deadline_for(2027, 2)


@pytest.mark.django_db
def test_month_constraint_and_uniqueness():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        FilingDeadline.objects.create(year=2030, month=13, deadline=date(2030, 12, 15), source_document="x")
    FilingDeadline.objects.create(year=2030, month=1, deadline=date(2030, 1, 15), source_document="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        FilingDeadline.objects.create(year=2030, month=1, deadline=date(2030, 1, 16), source_document="y")


# --- entry by an administrator -------------------------------------------------------------------------------


def _table_post(year, document, deadlines, region=""):
    data = {"year": str(year), "region": region, "source_document": document}
    for month in range(1, 13):
        data[f"m{month:02d}"] = deadlines.get(month, "")
    return data


TABLE_2027 = {m: f"2027-{m:02d}-15" for m in range(1, 13)} | {2: "2027-02-22", 10: "2027-10-25"}


@pytest.mark.django_db
def test_admin_enters_a_year_in_one_form_and_it_is_audited(client_for, personas):
    url = reverse("taxpayers:filing_deadlines")
    client = client_for("admin")
    assert client.get(url + "?year=2022").status_code == 200
    response = client.post(url, _table_post(2027, "税总办征科函〔2026〕99号", TABLE_2027))
    assert response.status_code == 302
    rows = {row.month: row for row in FilingDeadline.objects.filter(year=2027, region="")}
    assert len(rows) == 12
    assert rows[2].deadline == date(2027, 2, 22)
    assert rows[10].deadline == date(2027, 10, 25)
    assert rows[1].entered_by == personas["admin"]
    assert rows[1].source_document == "税总办征科函〔2026〕99号"
    assert cal.deadline_for(2027, 2) == (date(2027, 2, 22), "official")
    event = AuditEvent.objects.get(object_type="taxpayers.filingdeadline", object_id="2027/")
    assert event.actor == personas["admin"]
    assert len(event.changes) == 12
    page = client.get(url + "?year=2027")
    assert "2027-02-22" in page.content.decode()


@pytest.mark.django_db
def test_admin_form_rejects_dates_outside_the_month_and_incomplete_national_tables(client_for):
    url = reverse("taxpayers:filing_deadlines")
    client = client_for("admin")
    bad = TABLE_2027 | {3: "2027-04-01"}
    response = client.post(url, _table_post(2027, "文号", bad))
    assert response.status_code == 200
    assert "应为 2027年3月内的日期" in response.content.decode()
    incomplete = {m: d for m, d in TABLE_2027.items() if m != 5}
    response = client.post(url, _table_post(2027, "文号", incomplete))
    assert "全国表须填写全部 12 个月" in response.content.decode()
    assert not FilingDeadline.objects.filter(year=2027).exists()


@pytest.mark.django_db
def test_admin_enters_a_regional_override_for_some_months(client_for):
    url = reverse("taxpayers:filing_deadlines")
    response = client_for("admin").post(url, _table_post(2024, "粤税函〔2024〕7号", {8: "2024-08-16"}, region="4400"))
    assert response.status_code == 302
    assert list(FilingDeadline.objects.filter(year=2024).values_list("month", "region")) == [(8, "4400")]
    assert cal.deadline_for(2024, 8, "4400") == (date(2024, 8, 16), "official")
    assert cal.deadline_for(2024, 8) == (date(2024, 8, 15), "rule")


@pytest.mark.django_db
def test_only_administrators_see_and_use_the_page(client_for):
    url = reverse("taxpayers:filing_deadlines")
    for username in ("refund_officer", "officer_a", "supervisor"):
        client = client_for(username)
        assert client.get(url).status_code == 403
        assert client.post(url, _table_post(2027, "x", TABLE_2027)).status_code == 403
        assert "申报期限" not in client.get(reverse("home")).content.decode()
    assert client_for(None).get(url).status_code == 302
    assert not FilingDeadline.objects.filter(year=2027).exists()
    assert 'href="' + url + '"' in client_for("admin").get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_service_refuses_bad_input():
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        filing_table_save(actor=None, year=2027, region="", source_document=" ", deadlines={1: date(2027, 1, 15)})
    with pytest.raises(ApplicationError):
        filing_table_save(actor=None, year=2027, region="", source_document="x", deadlines={1: date(2027, 2, 15)})
    january = {1: date(2027, 1, 15)}
    assert filing_table_save(actor=None, year=2027, region="", source_document="x", deadlines=january) == 1
    assert filing_table_save(actor=None, year=2027, region="", source_document="x", deadlines=january) == 0
