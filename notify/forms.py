"""Forms of notify's pages: a new batch (template, name, branch, recipients) and the reason for a resend."""

from django import forms

from .models import MessageTemplate
from .recipients import RecipientListError, parse_rows, read_pasted, read_upload


class BatchForm(forms.Form):
    """新建短信批次: one template, the recipients pasted or uploaded; validated into ``cleaned_data["rows"]``."""

    template = forms.ModelChoiceField(
        label="短信模板", queryset=MessageTemplate.objects.none(), empty_label="请选择模板",
        error_messages={"required": "请选择短信模板", "invalid_choice": "模板不存在或已停用，请重新选择"},
    )
    name = forms.CharField(label="批次名称", max_length=100, error_messages={"required": "请填写批次名称"})
    branch = forms.TypedChoiceField(label="所属分局", coerce=int, required=False, empty_value=None)
    recipients_text = forms.CharField(
        label="粘贴收件人", required=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="从 Excel 复制（含表头）后粘贴；每行一个收件人：手机号码，再按表头顺序填写模板中的各变量。",
    )
    recipients_file = forms.FileField(
        label="或上传文件", required=False,
        help_text="xlsx 或 csv，第一行为表头：手机号码，以及右侧“收件人表头”列出的各变量（如 纳税人名称、所属期）。"
    )

    def __init__(self, *args, templates, branches: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["template"].label_from_instance = lambda template: template.name  # never the code
        self.fields["branch"].choices = [("", "不限（全局批次）"), *branches]
        if not branches:
            self.fields["branch"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        text, upload = data.get("recipients_text", "").strip(), data.get("recipients_file")
        if bool(text) == bool(upload):
            message = "请粘贴收件人或上传文件（二选一）" if not text else "粘贴和上传只能选一种，请清空其中一个"
            self.add_error("recipients_text", message)
            return data
        template = data.get("template")
        if template is None:
            return data
        try:
            table = read_upload(upload) if upload else read_pasted(text)
            data["rows"], data["notices"] = parse_rows(table, template=template)
        except RecipientListError as exc:
            self.add_error("recipients_file" if upload else "recipients_text", exc.message)
        return data


class ResendForm(forms.Form):
    reason = forms.CharField(
        label="重发原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写重发原因，例如：签名编码已更正"},
    )
