"""``PeriodField`` on its own: the column it declares, what it writes and what it reads back (no model of core's)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models

from core.fields import PeriodField, period_format_check
from core.periods import PERIOD_RE, Period


def field(**kwargs) -> PeriodField:
    result = PeriodField("所属期", **kwargs)
    result.set_attributes_from_name("period")
    return result


def test_the_column_is_the_varchar_7_of_before():
    assert field().db_type(connection) == models.CharField(max_length=7).db_type(connection)
    assert field().get_internal_type() == "CharField"


def test_deconstruct_names_the_field_and_leaves_the_fixed_length_out():
    name, path, args, kwargs = field(help_text="YYYY-MM", blank=True).deconstruct()
    assert (name, path, args) == ("period", "core.fields.PeriodField", [])
    assert kwargs == {"verbose_name": "所属期", "help_text": "YYYY-MM", "blank": True}
    assert PeriodField(**kwargs).max_length == 7


@pytest.mark.parametrize(
    ("value", "prepared"),
    [(Period(2026, 3), "2026-03"), ("2026-03", "2026-03"), ("2026", "2026"), ("", ""), (None, None)],
)
def test_lookups_and_writes_take_a_period_or_its_text(value, prepared):
    assert field().get_prep_value(value) == prepared


def test_the_database_gives_periods_and_keeps_blank_text():
    assert field().from_db_value("2026-03", None, connection) == Period(2026, 3)
    assert field(blank=True).from_db_value("", None, connection) == ""
    assert field().from_db_value(None, None, connection) is None


def test_to_python_reads_what_people_type_and_refuses_in_chinese():
    assert field().to_python("2026年3月") == Period(2026, 3)
    assert field().to_python(Period(2026, 3)) == Period(2026, 3)
    with pytest.raises(ValidationError) as exc:
        field().clean("2026-13", None)
    assert exc.value.messages == ["所属期“2026-13”格式不正确，应为 YYYY-MM（如 2024-05）。"]
    assert field().clean("2026-03", None) == Period(2026, 3)  # the length check sees the text, not the Period


def test_the_format_check_is_the_period_pattern():
    check = period_format_check("application_period", name="x_period_format")
    assert check.condition == models.Q(application_period__regex=PERIOD_RE.pattern)
    assert check.name == "x_period_format"
