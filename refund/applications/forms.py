"""Forms of the 留抵退税申请 pages: entry (登记申请), import, the workflow actions, coaching and batch assignment.

They parse and check shape only (required reason, Decimal amounts, YYYY-MM periods); the business rules —
which state allows what, whether a correction matches the computed split — are the services' to refuse.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from ..models import CoachingRecord, RefundApplication
from ..screening.forms import parse_period_field
from .claims import CLAIM_INPUT_DIGITS

MONEY_ATTRS = {"step": "0.01", "min": "0", "inputmode": "decimal"}
REASON_REQUIRED = "请填写原因（将记入流转记录并通知经办人）。"


def _money(label: str, *, required: bool = False, max_digits: int | None = 16) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=max_digits,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs=MONEY_ATTRS),
        error_messages={
            "required": f"请填写{label}。",
            "invalid": "请填写金额（元，最多两位小数），如 12345.67。",
            "max_decimal_places": "金额最多两位小数（分）。",
            "min_value": "金额不能为负数。",
            "max_digits": "金额过大，请确认金额的单位是“元”。",
            "max_whole_digits": "金额过大，请确认金额的单位是“元”。",
        },
    )


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric", "pattern": r"\d{4}-\d{2}"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value).strip()
        return parse_period_field(text) if text else text


class ApplicationEntryForm(forms.Form):
    """登记申请: an application taken at the counter or from paper, entered by an officer."""

    identifier = forms.CharField(
        label="纳税人识别号", max_length=20, error_messages={"required": "请填写纳税人识别号。"}
    )
    application_period = PeriodField(
        label="申请退税所属期",
        help_text="提交《退（抵）税申请表》的申报期，YYYY-MM。",
        error_messages={"required": "请填写申请退税所属期。"},
    )
    kind = forms.ChoiceField(label="退税类型", choices=RefundApplication.Kind.choices)
    # Digits well past a money field's: the services' one rule for claims (refund.applications.claims) refuses an
    # absurd claim beside this field with the amount and the limit it exceeds.
    claimed_amount = _money("申请退税额（元）", required=True, max_digits=CLAIM_INPUT_DIGITS)
    received_on = forms.DateField(
        label="受理日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写受理日期。", "invalid": "请按 YYYY-MM-DD 填写日期。"},
    )
    document_number = forms.CharField(
        label="申请文书号", max_length=40, required=False, help_text="核心征管系统的受理文书号（可不填）。"
    )

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("受理日期不能晚于今天。")
        return day

    def clean_document_number(self):
        return self.cleaned_data["document_number"].strip() or None


class ApplicationImportForm(forms.Form):
    file = forms.FileField(
        label="申请文件",
        help_text=(
            "核心征管系统导出的留抵退税申请（xlsx，或 UTF-8/GBK 编码的 csv），列：申请文书号、纳税人识别号、"
            "申请退税所属期、退税类型、申请退税额、受理日期。整个文件校验通过才会导入，否则列出每处错误。"
        ),
        error_messages={"required": "请选择要导入的 xlsx 文件。"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("请上传 .xlsx 文件（Excel 2007 及以后的格式）或 .csv 文件。")
        return upload


class NoteForm(forms.Form):
    """开始调查核实, 重新计算: an optional note."""

    note = forms.CharField(label="说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SignOffForm(forms.Form):
    """局领导签批: an optional opinion."""

    opinion = forms.CharField(
        label="签批意见（可选）", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    """不予退税: the reason is required (it is final)."""

    reason = forms.CharField(
        label="原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": REASON_REQUIRED},
    )


class ReturnForm(ReasonForm):
    """回退: the reason and, optionally, what the taxpayer or the branch must verify."""

    evidence = forms.CharField(
        label="核实要点（可选）", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def evidence_dict(self) -> dict | None:
        text = self.cleaned_data.get("evidence", "").strip()
        return {"note": text} if text else None


class ConfirmForm(forms.Form):
    """一键确认: empty amounts accept the rules' figures; any corrected amount needs a reason."""

    amount = _money("确认退税额（元）")
    incremental = _money("其中：增量（元）")
    stock = _money("其中：存量（元）")
    reason = forms.CharField(label="更正原因", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        corrected = any(data.get(name) is not None for name in ("amount", "incremental", "stock"))
        if corrected and not (data.get("reason") or "").strip():
            self.add_error("reason", "更正计算结果时必须填写更正原因。")
        return data

    @property
    def is_correction(self) -> bool:
        return any(self.cleaned_data.get(name) is not None for name in ("amount", "incremental", "stock"))


class StopForm(forms.Form):
    """终止退税: final, so the reason is required."""

    reason = forms.CharField(
        label="终止原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写终止退税的原因（将记入流转记录）。"},
    )


class AdjustForm(forms.Form):
    """调整退税额: the new amount and the reason; the parts of a "both" application may be left empty (divided as
    the rules' figures are)."""

    amount = _money("调整后的退税额（元）", required=True)
    incremental = _money("其中：增量（元，可不填）")
    stock = _money("其中：存量（元，可不填）")
    reason = forms.CharField(
        label="调整原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写调整退税额的原因（将记入流转记录）。"},
    )


class CoachingRecordForm(forms.Form):
    topic = forms.ChoiceField(label="辅导主题", choices=CoachingRecord.Topic.choices)
    notes = forms.CharField(label="辅导情况", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    coached_on = forms.DateField(
        label="辅导日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写辅导日期。", "invalid": "请按 YYYY-MM-DD 填写日期。"},
    )

    def clean_coached_on(self):
        day = self.cleaned_data["coached_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("辅导日期不能晚于今天。")
        return day


class AssignForm(forms.Form):
    officer = forms.ModelChoiceField(
        label="分派给",
        queryset=None,
        empty_label="请选择经办人",
        error_messages={"required": "请选择要分派的经办人。", "invalid_choice": "该经办人不在可选范围内。"},
    )

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers
        self.fields["officer"].label_from_instance = lambda u: f"{u}（{u.branch.name}）" if u.branch_id else str(u)
