"""The post-refund review's forms: a new version of a sample parameter, and the month to draw."""

from django import forms

from core.periods import Period, PeriodError

from .parameters import PARAMETERS


class SampleParameterForm(forms.Form):
    parameter = forms.ChoiceField(
        label="参数", choices=[(p.name, f"{p.label}（{p.unit}）" if p.unit else p.label) for p in PARAMETERS]
    )
    value = forms.CharField(label="新的参数值", max_length=200)
    effective_from = forms.DateField(label="生效日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="修改原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class SampleDrawForm(forms.Form):
    period = forms.CharField(
        label="退库月份", max_length=10, widget=forms.TextInput(attrs={"placeholder": "如 2026-03"})
    )

    def clean_period(self) -> Period:
        try:
            return Period.typed(self.cleaned_data["period"])
        except PeriodError:
            raise forms.ValidationError("请按“2026-03”的格式填写月份。") from None
