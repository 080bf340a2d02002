"""The risk officer's forms: a new version of an indicator's parameter, a new grade rule; the filters of a scan's
hits."""

from django import forms

from .indicators import INDICATORS, Family, Indicator
from .models import RiskGrade, Severity

SEVERITIES = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)


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


class HitFilterForm(forms.Form):
    """The filters of a scan's hits, kept in the URL (``risk.selectors.scan_hits`` reads them)."""

    family = forms.ChoiceField(label="风险类别", required=False)
    severity = forms.ChoiceField(label="风险程度", required=False)
    indicator = forms.ChoiceField(label="风险指标", required=False)
    branch = forms.ChoiceField(label="主管税务机关", required=False)
    q = forms.CharField(label="纳税人", required=False, max_length=100)

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = [("", "全部"), *Family.choices]
        self.fields["severity"].choices = [("", "全部"), *((s.value, s.label) for s in SEVERITIES)]
        self.fields["indicator"].choices = [("", "全部"), *((code, i.title) for code, i in INDICATORS.items())]
        if branches is None:
            del self.fields["branch"]  # a branch officer sees its own branch only
        else:
            self.fields["branch"].choices = [("", "全部"), *((str(b.pk), b.name) for b in branches)]
        self.fields["q"].widget.attrs["placeholder"] = "名称或识别号"
