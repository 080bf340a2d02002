"""``python manage.py filing_calendar YEAR`` and the push-date rules."""

import importlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.db import connection

from core.tests.commands import json_command
from refund.candidates.push_dates import after_deadline_push_date, month_end_push_date, push_dates
from taxpayers.calendar import CalendarUnavailable, rule_deadline
from taxpayers.models import FilingDeadline

ROOT = Path(__file__).resolve().parents[3]
SEED = json.loads((ROOT / "taxpayers" / "data" / "filing_deadlines.json").read_text("utf-8"))
# The rule's deadlines for years without a stored table (it reproduces the published 2025 and 2026 tables).
RULE = {
    2024: ["01-15", "02-23", "03-15", "04-18", "05-22", "06-19", "07-15", "08-15", "09-18", "10-24", "11-15", "12-16"],
    2025: ["01-15", "02-20", "03-17", "04-18", "05-22", "06-16", "07-15", "08-15", "09-15", "10-27", "11-17", "12-15"],
    2026: ["01-20", "02-24", "03-16", "04-20", "05-22", "06-15", "07-15", "08-17", "09-15", "10-26", "11-16", "12-15"],
}


def _seed():
    importlib.import_module("taxpayers.migrations.0003_seed_filing_deadlines").seed(global_apps, None)


def run_command(*args) -> tuple[int, dict]:
    return json_command("filing_calendar", *args)


# --- push dates (pure) ---------------------------------------------------------------------------------------


def test_push_date_after_the_deadline_moves_past_rest_days():
    assert after_deadline_push_date(date(2024, 1, 15)) == date(2024, 1, 16)  # Tuesday
    assert after_deadline_push_date(date(2024, 3, 15)) == date(2024, 3, 18)  # Friday → Monday
    assert after_deadline_push_date(date(2024, 9, 30)) == date(2024, 10, 8)  # 国庆 holiday
    assert after_deadline_push_date(date(2022, 1, 28)) == date(2022, 1, 29)  # make-up Saturday


def test_month_end_push_date_is_the_last_working_day():
    assert month_end_push_date(2024, 1) == date(2024, 1, 31)
    assert month_end_push_date(2024, 3) == date(2024, 3, 29)  # 30–31 weekend
    assert month_end_push_date(2022, 1) == date(2022, 1, 30)  # make-up Sunday
    assert month_end_push_date(2024, 9) == date(2024, 9, 30)  # Monday; 29 Sep make-up Sunday too


def test_push_dates_merge_sort_and_deduplicate():
    assert push_dates(2024, 1, date(2024, 1, 15)) == [date(2024, 1, 16), date(2024, 1, 31)]
    # The day after the deadline is the month's last working day: listed once.
    assert push_dates(2024, 2, date(2024, 2, 28)) == [date(2024, 2, 29)]
    # A deadline late in the month: the day after it rolls past the month end.
    assert push_dates(2024, 5, date(2024, 5, 31)) == [date(2024, 5, 31), date(2024, 6, 3)]


def test_push_dates_past_the_holiday_data_raise():
    with pytest.raises(CalendarUnavailable):
        push_dates(2027, 1, date(2027, 1, 15))


# --- the command ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("year", [2022, 2023])
def test_published_years_are_official(year):
    _seed()
    code, payload = run_command(str(year))
    assert code == 0
    assert payload["year"] == year
    assert [m["month"] for m in payload["months"]] == [f"{year}-{m:02d}" for m in range(1, 13)]
    expected = [SEED["tables"][str(year)][f"{m:02d}"] for m in range(1, 13)]
    assert [m["filing_deadline"] for m in payload["months"]] == expected
    assert {m["source"] for m in payload["months"]} == {"official"}
    for entry in payload["months"]:
        assert set(entry) == {"month", "filing_deadline", "source", "push_dates"}
        assert entry["push_dates"] == sorted(set(entry["push_dates"]))
        assert 1 <= len(entry["push_dates"]) <= 2


@pytest.mark.django_db
def test_2022_push_dates():
    _seed()
    _, payload = run_command("2022")
    months = {m["month"]: m["push_dates"] for m in payload["months"]}
    assert months["2022-01"] == ["2022-01-20", "2022-01-30"]  # 30 Jan: make-up Sunday
    assert months["2022-02"] == ["2022-02-24", "2022-02-28"]
    assert months["2022-10"] == ["2022-10-26", "2022-10-31"]
    assert months["2022-04"] == ["2022-04-21", "2022-04-29"]  # 30 Apr: Saturday, a rest day


@pytest.mark.django_db
@pytest.mark.parametrize("year", sorted(RULE))
def test_years_without_a_table_use_the_rule(year):
    FilingDeadline.objects.filter(year=year).delete()
    code, payload = run_command(str(year))
    assert code == 0
    assert {m["source"] for m in payload["months"]} == {"rule"}
    assert [m["filing_deadline"] for m in payload["months"]] == [f"{year}-{d}" for d in RULE[year]]
    assert [m["filing_deadline"] for m in payload["months"]] == [
        rule_deadline(year, month).isoformat() for month in range(1, 13)
    ]


@pytest.mark.django_db
def test_2024_matches_the_contract_example():
    _, payload = run_command("2024")
    assert payload["months"][0] == {
        "month": "2024-01",
        "filing_deadline": "2024-01-15",
        "source": "rule",
        "push_dates": ["2024-01-16", "2024-01-31"],
    }


@pytest.mark.django_db
def test_a_stored_month_is_official_and_the_others_rule():
    FilingDeadline.objects.create(
        year=2025, month=10, deadline=date(2025, 10, 27), source_document="税总办征科函〔2024〕71号"
    )
    _, payload = run_command("2025")
    assert [m["source"] for m in payload["months"]] == ["rule"] * 9 + ["official"] + ["rule"] * 2


@pytest.mark.django_db
def test_regional_override_wins_with_region_option():
    _seed()
    FilingDeadline.objects.create(
        year=2023, month=7, region="4400", deadline=date(2023, 7, 20), source_document="粤税函〔2023〕1号"
    )
    _, regional = run_command("2023", "--region", "4400")
    _, national = run_command("2023")
    assert regional["months"][6]["filing_deadline"] == "2023-07-20"
    assert regional["months"][6]["push_dates"] == ["2023-07-21", "2023-07-31"]
    assert national["months"][6]["filing_deadline"] == "2023-07-17"
    assert regional["months"][7] == national["months"][7]


@pytest.mark.django_db
def test_a_year_without_holiday_data_exits_2_no_calendar():
    code, payload = run_command("2027")
    assert code == 2
    assert payload["error"] == "no_calendar"
    assert "2027" in payload["message"]


@pytest.mark.django_db
def test_a_partial_table_without_holiday_data_still_refuses():
    FilingDeadline.objects.create(year=2027, month=1, deadline=date(2027, 1, 15), source_document="测试")
    code, payload = run_command("2027")
    assert (code, payload["error"]) == (2, "no_calendar")


@pytest.mark.django_db
def test_a_full_table_without_holiday_data_still_refuses_push_dates():
    for month in range(1, 13):
        FilingDeadline.objects.create(year=2027, month=month, deadline=date(2027, month, 15), source_document="测试")
    code, payload = run_command("2027")
    assert (code, payload["error"]) == (2, "no_calendar")


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["abc", "24", "20245", "-2024", "1999", " ", "2024.0"])
def test_bad_year_exits_2_with_error_json(bad):
    code, payload = run_command(bad)
    assert code == 2
    assert payload["error"] == "invalid_year"
    assert payload["message"]


@pytest.mark.django_db
def test_missing_year_exits_2_with_error_json():
    code, payload = run_command()
    assert (code, payload["error"]) == (2, "invalid_year")


# --- as a real process ---------------------------------------------------------------------------------------


def _manage(*args) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "filing_calendar", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_real_process_exit_codes_and_output():
    # The subprocess sees only committed data; the years used here do not depend on stored rows.
    done = _manage("2027")
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["error"] == "no_calendar"
    assert "Traceback" not in done.stderr
    done = _manage("abc")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == "invalid_year"
    assert "Traceback" not in done.stderr
    done = _manage("2026")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["year"] == 2026
    assert payload["months"][0]["filing_deadline"] == "2026-01-20"
    assert len(payload["months"]) == 12
