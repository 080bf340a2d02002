"""A service's refusal on the bound form of a list row or a detail page: beside the field it names."""

from django import forms

from core.errors import ApplicationError
from core.listing import add_service_error


class PaymentLikeForm(forms.Form):
    voucher_number = forms.CharField(label="退库凭证号")
    amount = forms.DecimalField(label="退库金额（元）", min_value=0)


def _bound():
    form = PaymentLikeForm({"voucher_number": "V-1", "amount": "12.50"})
    assert form.is_valid()
    return form


def test_the_error_goes_beside_the_field_the_service_names():
    form = _bound()
    add_service_error(form, ApplicationError("退库金额超过确认退税额。", extra={"field": "amount"}))
    assert form.errors == {"amount": ["退库金额超过确认退税额。"]}
    assert form["amount"].value() == "12.50"  # what was typed is kept


def test_a_service_name_can_be_renamed_to_the_forms():
    form = _bound()
    add_service_error(
        form, ApplicationError("凭证号已录入。", extra={"field": "voucher"}), fields={"voucher": "voucher_number"}
    )
    assert form.errors == {"voucher_number": ["凭证号已录入。"]}


def test_an_error_about_no_field_of_the_form_sits_above_its_fields():
    for extra in (None, {"field": "application"}):
        form = _bound()
        add_service_error(form, ApplicationError("该申请已被他人处理。", extra=extra))
        assert form.non_field_errors() == ["该申请已被他人处理。"]
