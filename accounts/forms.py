"""Forms of 用户与岗位 (a user's roles, unit and status, a password reset, the rejection of a request of the
two-person rule) and of 修改密码."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm

from .models import Branch
from .roles import ROLES, needs_second_person


class UserRolesForm(forms.Form):
    """The seven roles as checkboxes by their Chinese names; the roles of the two-person rule are marked."""

    roles = forms.MultipleChoiceField(
        label="岗位",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        choices=[(code.value, role.label) for code, role in ROLES.items()],
        error_messages={"invalid_choice": "所选岗位无效，请刷新页面后重新选择。"},
    )
    branch = forms.ModelChoiceField(
        label="所属机构",
        queryset=Branch.objects.all(),
        required=False,
        empty_label="（无）",
        error_messages={"invalid_choice": "所选机构不存在，请刷新页面后重新选择。"},
    )
    is_active = forms.BooleanField(label="启用账户", required=False)
    reason = forms.CharField(
        label="申请理由",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="授予需双人确认的岗位时必填，供确认人参考。",
        error_messages={"max_length": "申请理由最多 500 个字。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["reason"].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["is_active"].widget.attrs["class"] = "form-check-input"

    @staticmethod
    def role_rows(bound_field) -> list[dict]:
        """The checkboxes with whether each role needs a second person, for the template."""
        return [
            {"widget": checkbox, "two_person": needs_second_person(checkbox.data["value"])} for checkbox in bound_field
        ]


class RoleGrantRejectForm(forms.Form):
    note = forms.CharField(
        label="驳回理由",
        max_length=500,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "placeholder": "驳回理由（必填）"}),
        error_messages={"required": "请填写驳回理由。", "max_length": "驳回理由最多 500 个字。"},
    )


class PasswordResetReasonForm(forms.Form):
    """重置密码 on the user page: only the reason; the password is generated (accounts/passwords.py)."""

    reason = forms.CharField(
        label="重置理由",
        max_length=500,
        widget=forms.TextInput(
            attrs={"class": "form-control form-control-sm", "placeholder": "如：本人忘记密码，电话核实身份后申请"}
        ),
        error_messages={"required": "请填写重置理由。", "max_length": "重置理由最多 500 个字。"},
    )


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form (current password, new password twice, the validators) in the bureau's words."""

    error_messages = {
        "password_incorrect": "当前密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"old_password": "当前密码", "new_password1": "新密码", "new_password2": "再次输入新密码"}
        for name, label in labels.items():
            self.fields[name].label = label
            self.fields[name].widget.attrs["class"] = "form-control"
            self.fields[name].error_messages["required"] = f"请填写{label}。"
        self.fields["old_password"].widget.attrs["autofocus"] = True
        self.fields["new_password2"].help_text = "与上面的新密码相同，以免输错。"
        if self.user.must_change_password:
            self.fields["old_password"].label = "临时密码"
            self.fields["old_password"].error_messages["required"] = "请填写临时密码。"
