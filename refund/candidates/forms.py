"""Forms of the candidate-list pages: the period above a list, building by hand, an item's verification,
decline, reopening and coaching, and the higher bureau's list upload. They check shape only; the services check
the business rules."""

from __future__ import annotations

import datetime as dt

from django import forms

from taxpayers.filters import PeriodField

from ..models import CandidateItem


class PeriodForm(forms.Form):
    """The application period chosen above a list (``?period=``); a bad one is shown beside the choice."""

    period = PeriodField(label="申请所属期", required=False)


class BuildForm(forms.Form):
    push_date = forms.DateField(label="推送日期")


SMALL = "form-control form-control-sm"


DATE_ERRORS = {"invalid": "请按 YYYY-MM-DD 填写日期。"}


class VerifyForm(forms.Form):
    result = forms.ChoiceField(
        label="调查结论",
        choices=CandidateItem.Verification.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "请选择调查结论：核实符合或核实不符合。"},
    )
    note = forms.CharField(
        label="调查情况（核实不符合时必填原因）",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": SMALL}),
    )
    verified_on = forms.DateField(
        label="调查日期",
        widget=forms.DateInput(attrs={"type": "date", "class": SMALL}, format="%Y-%m-%d"),
        error_messages={"required": "请填写调查日期。", **DATE_ERRORS},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="原因（如：留抵税额用于后期抵扣）",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "class": SMALL}),
        error_messages={"required": "请填写纳税人放弃申请的原因（如：留抵税额用于后期抵扣）。"},
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="恢复原因（误登记时使用）",
        max_length=500,
        widget=forms.TextInput(attrs={"class": SMALL}),
        error_messages={"required": "请填写恢复的原因。"},
    )


class CoachingForm(forms.Form):
    topic = forms.CharField(
        label="辅导主题",
        max_length=100,
        widget=forms.TextInput(attrs={"class": SMALL, "list": "coaching-topics"}),
        error_messages={"required": "请填写辅导主题（如：留抵退税申请表填报）。"},
    )
    notes = forms.CharField(label="辅导情况", required=False, widget=forms.Textarea(attrs={"rows": 3, "class": SMALL}))
    coached_on = forms.DateField(
        label="辅导日期",
        widget=forms.DateInput(attrs={"type": "date", "class": SMALL}, format="%Y-%m-%d"),
        error_messages={"required": "请填写辅导日期。", **DATE_ERRORS},
    )


ITEM_FORMS = {"verify": VerifyForm, "decline": DeclineForm, "reopen": ReopenForm, "coach": CoachingForm}
"""The forms of an item's page by name; each is prefixed by its name (decline and reopen both ask a reason)."""


class UpperImportForm(forms.Form):
    push_date = forms.TypedChoiceField(label="并入推送日", coerce=dt.date.fromisoformat)
    source_name = forms.CharField(label="下发单位", max_length=100, help_text="如：市税务局货物和劳务税处")
    file = forms.FileField(
        label="文件", help_text="xlsx（或 csv）：纳税人识别号（必填）、金额（可选，元）、备注（可选）。"
    )

    def __init__(self, *args, dates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["push_date"].choices = [(d.isoformat(), d.isoformat()) for d in dates]
