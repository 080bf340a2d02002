"""The risk officer's forms: a new version of an indicator's parameter, a new grade rule."""

from django import forms

from .indicators import Indicator
from .models import RiskGrade


class ParameterChangeForm(forms.Form):
    parameter = forms.ChoiceField(label="参数")
    value = forms.CharField(label="新的参数值", max_length=200)
    effective_from = forms.DateField(label="生效日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="修改原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parameter"].choices = [
            (p.name, f"{p.label}（{p.unit}）" if p.unit else p.label) for p in indicator.parameters
        ]


class GradeRuleForm(forms.Form):
    grade = forms.ChoiceField(
        label="风险等级", choices=[(RiskGrade.HIGH, RiskGrade.HIGH.label), (RiskGrade.MEDIUM, RiskGrade.MEDIUM.label)]
    )
    min_high_hits = forms.IntegerField(label="高风险疑点数不少于", min_value=1, required=False)
    min_medium_hits = forms.IntegerField(label="中风险及以上疑点数不少于", min_value=1, required=False)
    min_total_hits = forms.IntegerField(label="疑点总数不少于", min_value=1, required=False)
    effective_from = forms.DateField(label="生效日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="修改原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
