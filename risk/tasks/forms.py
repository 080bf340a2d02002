"""The risk tasks' forms: a new task, each stage's step, the outcome with its transfer record, the import."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from ..models import Severity

SMALL = "form-control form-control-sm"
SELECT = "form-select form-select-sm"
DATE = forms.DateInput(attrs={"type": "date", "class": SMALL}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": "日期格式不正确，应为 YYYY-MM-DD。"}


def _text(label: str, *, rows: int = 3, required: bool = True, max_length: int = 4000) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "class": SMALL}),
        error_messages={"required": f"请填写{label}。"},
    )


class TaskForm(forms.Form):
    """建立风险任务: by hand (the identifier asked), or from a hit or an application (the taxpayer known)."""

    identifier = forms.CharField(
        label="纳税人识别号", max_length=20, required=False, widget=forms.TextInput(attrs={"class": SMALL})
    )
    title = forms.CharField(
        label="任务名称",
        max_length=200,
        widget=forms.TextInput(attrs={"class": SMALL}),
        error_messages={"required": "请填写任务名称。"},
    )
    description = _text("任务说明", required=False)
    severity = forms.ChoiceField(
        label="风险程度",
        choices=Severity.choices,
        initial=Severity.MEDIUM,
        widget=forms.Select(attrs={"class": SELECT}),
    )
    due_on = forms.DateField(label="应对期限", required=False, widget=DATE, error_messages=DATE_ERRORS)


class AnalyseForm(forms.Form):
    note = _text("分析说明", rows=2, required=False)


class AssignForm(forms.Form):
    to = forms.ChoiceField(label="承办", widget=forms.Select(attrs={"class": SELECT}))
    due_on = forms.DateField(
        label="应对期限", widget=DATE, error_messages={"required": "请填写应对期限。", **DATE_ERRORS}
    )
    analysis = _text("分析意见", rows=2)

    def __init__(self, *args, branch_label: str, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [("branch", f"下发到{branch_label}")] + [
            (str(u.pk), f"风险管理股 {u.full_name or u.username}") for u in officers
        ]


class RespondForm(forms.Form):
    findings = _text("核查情况", rows=4)


class FileForm(forms.Form):
    file = forms.FileField(
        label="应对材料",
        help_text="PDF、图片、Word、Excel、OFD 或 ZIP，每个不超过 20 MB。",
        widget=forms.ClearableFileInput(attrs={"class": SMALL, "accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.ofd,.zip"}),
        error_messages={"required": "请选择要上传的文件。"},
    )


class SendBackForm(forms.Form):
    reason = _text("退回补充的原因", rows=2)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="处理结果", widget=forms.Select(attrs={"class": SELECT}), error_messages={"required": "请选择处理结果。"}
    )
    note = _text("处理说明", rows=2)
    transfer_number = forms.CharField(
        label="移送文号", max_length=100, required=False, widget=forms.TextInput(attrs={"class": SMALL})
    )
    transferred_on = forms.DateField(label="移送日期", required=False, widget=DATE, error_messages=DATE_ERRORS)
    receiving_unit = forms.CharField(
        label="接收单位", max_length=100, required=False, widget=forms.TextInput(attrs={"class": SMALL})
    )
    case_summary = _text("案情摘要", rows=2, required=False)
    amount = forms.DecimalField(
        label="金额（元）",
        required=False,
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="调整退税额：调整后的退税额；追缴：追缴金额",
        widget=forms.NumberInput(attrs={"class": SMALL, "step": "0.01"}),
        error_messages={"invalid": "请填写金额（元），最多两位小数。", "min_value": "金额须大于零。"},
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [("", "请选择"), *choices]

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "transferred":
            for name in ("transfer_number", "transferred_on", "receiving_unit", "case_summary"):
                if not data.get(name):
                    self.add_error(name, f"移送稽查须填写{self.fields[name].label}。")
        if data.get("outcome") in ("amount_adjusted", "clawback") and data.get("amount") is None:
            self.add_error("amount", "调整退税额和追缴须填写金额（元）。")
        return data


class CloseForm(forms.Form):
    follow_up = _text("跟踪监控情况", rows=2)


class ImportForm(forms.Form):
    source_name = forms.CharField(
        label="下发单位",
        max_length=100,
        help_text="如：市税务局风险管理局",
        widget=forms.TextInput(attrs={"class": SMALL}),
        error_messages={"required": "请填写下发单位。"},
    )
    file = forms.FileField(
        label="文件",
        help_text="xlsx（或 csv）：纳税人识别号、任务名称、任务说明（可选）、应对期限、来源文号。",
        error_messages={"required": "请选择要导入的文件。"},
    )


class PushDownForm(forms.Form):
    due_on = forms.DateField(
        label="应对期限（任务没有期限时）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": f"{SMALL} w-auto"}, format="%Y-%m-%d"),
        error_messages=DATE_ERRORS,
    )


STEP_FORMS = {
    "analyse": AnalyseForm,
    "respond": RespondForm,
    "send_back": SendBackForm,
    "close": CloseForm,
}
"""The steps that take a plain form; ``assign`` and ``outcome`` need the task to build theirs."""
