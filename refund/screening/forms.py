"""Forms of the screening pages: starting a run (发起筛查) and the what-if panel (假设测算)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from core.periods import Period, format_period_cn
from taxpayers.models import CreditLevel

from ..labels import option_title
from ..rules.options import OPTION_SPECS
from ..rules.parameters import FIRST_COVERED, LAST_COVERED

PERIOD_FORMAT_ERROR = "请按 YYYY-MM 填写所属期，如 2026-03。"


def parse_period_field(value: str) -> Period:
    """A covered application period, or ``ValidationError`` in Chinese."""
    try:
        period = Period.parse(value)
    except ValueError:
        raise forms.ValidationError(f"“{value}”不是有效的所属期。{PERIOD_FORMAT_ERROR}", code="invalid") from None
    if not FIRST_COVERED <= period <= LAST_COVERED:
        raise forms.ValidationError(
            f"{format_period_cn(period)}不在留抵退税规则覆盖的范围内"
            f"（{format_period_cn(FIRST_COVERED)}至{format_period_cn(LAST_COVERED)}）。",
            code="out_of_range",
        )
    return period


def option_fields() -> dict[str, forms.ChoiceField]:
    """One radio group per open question of the law (refund/rules/options.py), its default preselected."""
    fields = {}
    for name, spec in OPTION_SPECS.items():
        choices = [
            (value, meaning + ("（默认）" if value == spec.default else "")) for value, meaning in spec.choices.items()
        ]
        fields[name] = forms.ChoiceField(
            label=option_title(name),
            choices=choices,
            initial=spec.default,
            help_text=spec.question,
            widget=forms.RadioSelect,
            error_messages={"required": "请选择一项。", "invalid_choice": "“%(value)s”不是可选的取值。"},
        )
    return fields


class ScreeningRunStartForm(forms.Form):
    """发起筛查: an application period (default this month), an assumed application date and the rule options."""

    application_period = forms.CharField(
        label="申请退税所属期",
        max_length=7,
        help_text="纳税人提交《退（抵）税申请表》的纳税申报期，YYYY-MM。",
        error_messages={"required": "请填写申请退税所属期。"},
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric", "pattern": r"\d{4}-\d{2}"}),
    )
    application_date = forms.DateField(
        label="假定申请日期",
        required=False,
        help_text="36个月内的处罚等条件从这一天往前计算；留空时为今天（不在所属期内则为所属期的第一天）。",
        error_messages={"invalid": "请按 YYYY-MM-DD 填写日期。"},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["application_period"].initial = Period.of(today)
        self.fields["application_date"].initial = today
        for name in ("application_period", "application_date"):
            widget = self.fields[name].widget
            widget.attrs.update({"class": "form-control form-control-sm", "aria-describedby": f"id_{name}_help"})
        self.fields.update(option_fields())

    @property
    def option_bound_fields(self):
        return [self[name] for name in OPTION_SPECS]

    def clean_application_period(self) -> Period:
        return parse_period_field(self.cleaned_data["application_period"].strip())

    def clean(self):
        cleaned = super().clean()
        period, day = cleaned.get("application_period"), cleaned.get("application_date")
        if period and day and Period.of(day) != period:
            self.add_error(
                "application_date",
                f"假定申请日期 {day.isoformat()} 不在申请退税所属期 {format_period_cn(period)} 内，"
                "请改为该月内的日期，或留空（取所属期的第一天）。",
            )
        return cleaned

    @property
    def options(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in OPTION_SPECS}


class WhatIfForm(forms.Form):
    """假设测算: another credit level, another application period, a repaid 即征即退 — the same rules again."""

    credit_level = forms.ChoiceField(
        label="纳税信用级别",
        required=False,
        choices=[("", "不变"), *CreditLevel.choices],
        error_messages={"invalid_choice": "“%(value)s”不是有效的信用级别。"},
    )
    what_if_period = forms.CharField(
        label="申请退税所属期",
        required=False,
        max_length=7,
        help_text="留空为不变",
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric"}),
    )
    immediate_repaid = forms.BooleanField(label="即征即退已一次性缴回", required=False)

    def clean_what_if_period(self) -> Period | None:
        text = self.cleaned_data["what_if_period"].strip()
        return parse_period_field(text) if text else None

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (
            cleaned.get("credit_level") or cleaned.get("what_if_period") or cleaned.get("immediate_repaid")
        ):
            raise forms.ValidationError("请至少改变一项假设条件（信用级别、所属期或即征即退缴回）。", code="nothing")
        return cleaned

    def period(self, actual: Period) -> Period:
        return self.cleaned_data.get("what_if_period") or actual

    @staticmethod
    def date_for(period: Period, actual_date: dt.date) -> dt.date:
        """The actual application date when it falls in the what-if period, else that period's first day."""
        return actual_date if Period.of(actual_date) == period else period.first_day
