"""The month value every app and the refund rules share: arithmetic, the strict and the typed reading, the label."""

from datetime import date

import pytest

from core.periods import (
    PERIOD_RE,
    Period,
    PeriodError,
    format_period_cn,
    last_quarter_end_before,
    period_range,
    shift_months,
)


def test_month_arithmetic():
    assert Period(2022, 1).minus(1) == Period(2021, 12)
    assert Period(2021, 12).plus(1) == Period(2022, 1)
    assert Period(2022, 3).months_after(Period(2019, 4)) == 35
    assert Period.from_index(Period(2019, 4).index) == Period(2019, 4)
    assert (Period(2024, 2).first_day, Period(2024, 2).last_day) == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_range(Period(2025, 11), Period(2026, 2)) == [
        Period(2025, 11), Period(2025, 12), Period(2026, 1), Period(2026, 2)
    ]
    assert Period(2019, 12) < Period(2020, 1) < Period(2020, 10)


def test_quarter_ends():
    assert last_quarter_end_before(Period(2022, 4)) == Period(2022, 3)
    assert last_quarter_end_before(Period(2022, 6)) == Period(2022, 3)
    assert last_quarter_end_before(Period(2022, 7)) == Period(2022, 6)
    assert last_quarter_end_before(Period(2023, 1)) == Period(2022, 12)
    assert [Period(2022, m).is_quarter_end for m in (2, 3)] == [False, True]


def test_shift_months_clamps_to_month_end():
    assert shift_months(date(2022, 5, 31), -3) == date(2022, 2, 28)
    assert shift_months(date(2024, 2, 29), -36) == date(2021, 2, 28)


def test_text_is_yyyy_mm_and_sorts_as_time():
    periods = [Period(2019, 4), Period(2019, 10), Period(2020, 1), Period(987, 6)]
    assert [str(p) for p in periods] == ["2019-04", "2019-10", "2020-01", "0987-06"]
    assert sorted(periods) == sorted(periods, key=str)
    assert all(PERIOD_RE.match(str(p)) for p in periods)


@pytest.mark.parametrize("text", ["2024-05", " 2024-05 ", "2024-05\n"])
def test_parse_takes_yyyy_mm(text):
    assert Period.parse(text) == Period(2024, 5)


@pytest.mark.parametrize("value", ["2024-5", "2024/05", "2024-13", "2024-00", "0000-05", "202405", "", None, 202405])
def test_parse_refuses_anything_else(value):
    with pytest.raises(ValueError):
        Period.parse(value)


@pytest.mark.parametrize(
    "raw", ["2024-05", "2024-5", "2024/05", "2024.5", "2024年5月", "2024年05月", "202405", " 2024-05 ", 202405]
)
def test_typed_takes_what_people_type(raw):
    assert Period.typed(raw) == Period(2024, 5)
    assert Period.typed(Period(2024, 5)) == Period(2024, 5)


@pytest.mark.parametrize("raw", ["2024-13", "24-05", "2024/00", "0000-05", "abc", "", None])
def test_typed_refuses_with_a_chinese_message(raw):
    with pytest.raises(PeriodError) as exc:
        Period.typed(raw)
    assert str(exc.value) == f"所属期“{raw}”格式不正确，应为 YYYY-MM（如 2024-05）。"
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize(
    ("value", "label"),
    [(Period(2024, 5), "2024年05月"), ("2024-05", "2024年05月"), ("", ""), (None, ""), ("上期", "上期")],
)
def test_format_period_cn(value, label):
    assert format_period_cn(value) == label
