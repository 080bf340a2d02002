"""The forms of the case pages: the application (《纳税信用修复申请表》 data), the steps and the decision."""

from __future__ import annotations

from django import forms

from ..models import CreditCase
from .figures import DirectDClaim
from .selectors import taxpayer_id_by_identifier


class CaseForm(forms.Form):
    """A new case for one taxpayer and one rated year: the behaviours named, each with its correction date."""

    kind = forms.ChoiceField(label="申请类型", choices=CreditCase.Kind.choices)
    events = forms.TypedMultipleChoiceField(
        label="申请事项", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    # 直接判级修复 (the year's D was given directly): the cause and the day it was cleared.
    direct_d_cause = forms.ChoiceField(
        label="直接判级情形", required=False, choices=[("", "——"), *CreditCase.DirectDCause.choices]
    )
    direct_d_cleared_on = forms.DateField(
        label="情形解除日期", required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    linked_identifier = forms.CharField(
        label="关联纳税人识别号", required=False, max_length=20, help_text="关联评价为D级时填写"
    )
    contact_name = forms.CharField(label="联系人", max_length=50)
    contact_phone = forms.CharField(label="联系电话", max_length=20)
    statement = forms.CharField(label="申请理由", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    commitment = forms.BooleanField(label="纳税人已承诺纠正情况和申请内容真实", required=False)

    def __init__(self, *args, events, **kwargs):
        super().__init__(*args, **kwargs)
        self.event_rows = events
        self.fields["events"].choices = [(e.pk, f"{e.indicator_label}（{e.recorded_on:%Y-%m-%d}）") for e in events]
        for event in events:
            self.fields[f"corrected_{event.pk}"] = forms.DateField(
                label=f"{event.indicator_label} 纠正日期",
                required=False,
                initial=event.corrected_on,
                # ISO: a date input drops any other format (the locale's is 2026/05/06) and the field came up empty.
                widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            )

    def corrections(self) -> dict:
        return {pk: self.cleaned_data.get(f"corrected_{pk}") for pk in self.cleaned_data["events"]}

    def clean_linked_identifier(self) -> int | None:
        """The linked taxpayer's id (关联评价为D), from its identifier; any branch's, since only its status and
        rating are read."""
        identifier = self.cleaned_data.get("linked_identifier", "").strip().upper()
        if not identifier:
            return None
        found = taxpayer_id_by_identifier(identifier)
        if found is None:
            raise forms.ValidationError("纳税人名册中没有该识别号。")
        return found

    def direct_d(self) -> DirectDClaim:
        data = getattr(self, "cleaned_data", {})
        return DirectDClaim(
            data.get("direct_d_cause") or "", data.get("direct_d_cleared_on"), data.get("linked_identifier")
        )

    def rows(self):
        """(event, its correction date field) for the template."""
        return [(event, self[f"corrected_{event.pk}"]) for event in self.event_rows]


class RaiseForm(forms.Form):
    question = forms.CharField(label="提请上级事项", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label="上级答复意见", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="撤回说明", max_length=500, required=False)


class DecisionForm(forms.Form):
    granted = forms.TypedMultipleChoiceField(
        label="准予的事项", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(label="决定理由", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    direct_d_granted = forms.BooleanField(label="准予直接判级修复", required=False, initial=True)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["granted"].choices = [(i.event_id, i.event.indicator_label) for i in items]
        self.fields["granted"].initial = [i.event_id for i in items]
