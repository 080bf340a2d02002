"""The flash-message text of a form posted from a list row."""

from django import forms

from accounts.listing import form_errors_text


class PaymentLikeForm(forms.Form):
    amount = forms.DecimalField(label="退库金额（元）", min_value=0)
    paid_on = forms.DateField(label="退库日期")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount") == 0:
            raise forms.ValidationError("金额不能为零。")
        return cleaned


def test_field_errors_follow_their_labels():
    form = PaymentLikeForm({"amount": "-1", "paid_on": "明天"})
    assert not form.is_valid()
    assert form_errors_text(form) == "退库金额（元）：确保该值大于或等于0。；退库日期：输入一个有效的日期。"


def test_errors_of_the_whole_form_have_no_label():
    form = PaymentLikeForm({"amount": "0", "paid_on": "2026-12-01"})
    assert not form.is_valid()
    assert form_errors_text(form) == "金额不能为零。"
