"""待退库: the period filter says why a bad period is not applied; the payment form of a row keeps what was typed
and shows each error beside its field."""

import pytest
from django.urls import reverse

from credit.tests.factories import TaxpayerFactory
from ledger.models import LedgerEntry
from ledger.tests.factories import approved_application

pytestmark = pytest.mark.django_db
UNPAID = reverse("ledger:unpaid")


def test_a_bad_period_says_why_and_does_not_empty_the_list(client_for, org):
    march = approved_application(TaxpayerFactory(branch=org["branch_a"], name="三月公司"))
    approved_application(TaxpayerFactory(branch=org["branch_a"], name="二月公司"), period="2026-02")
    client = client_for("refund_officer")
    response = client.get(UNPAID, {"period": "2026-13"})
    assert response.status_code == 200
    assert "申请所属期：“2026-13”不是有效的所属期" in response.content.decode()
    assert response.context["page_obj"].paginator.count == 2
    assert [a.pk for a in client.get(UNPAID, {"period": "2026-03"}).context["page_obj"]] == [march.pk]
    assert LedgerEntry.objects.count() == 0


def _row_form(html: str, app) -> str:
    start = html.index(f'id="pay-{app.pk}"')
    return html[start : html.index("</form>", start)]


def test_a_refused_payment_keeps_what_was_typed_beside_each_error(client_for, org):
    app = approved_application(TaxpayerFactory(branch=org["branch_a"], name="录入测试公司"))
    other = approved_application(TaxpayerFactory(branch=org["branch_a"], name="另一公司"))
    client = client_for("refund_officer")
    back = UNPAID + "?q=%E5%85%AC%E5%8F%B8"
    response = client.post(
        reverse("ledger:payment_create", args=[app.pk]),
        {"voucher_number": "V-9", "amount": "100000.01", "paid_on": "2026-03-25", "next": back},
    )
    assert response.status_code == 400
    html = response.content.decode()
    row = _row_form(html, app)
    assert 'value="V-9"' in row and 'value="100000.01"' in row and 'value="2026-03-25"' in row
    assert f'id="pay-{app.pk}-amount-error"' in row
    assert "退库金额 100,000.01 元超过该申请的确认退税额 100,000.00 元" in row
    assert 'class="alert' not in html.split("<main")[-1].split("<table")[0]  # no banner above the list
    assert "退库金额" not in _row_form(html, other).split("aria-label")[0]  # the other rows are as they were
    assert 'value="100000.00"' in _row_form(html, other)
    assert f'name="next" value="{back}"' in row  # the list the officer was on (its filters) stays
    assert not LedgerEntry.objects.exists()


def test_form_errors_and_service_errors_sit_beside_their_fields(client_for, org):
    app = approved_application(TaxpayerFactory(branch=org["branch_a"]))
    client = client_for("refund_officer")
    url = reverse("ledger:payment_create", args=[app.pk])
    response = client.post(url, {"voucher_number": "", "amount": "abc", "paid_on": "2026-03-25", "incremental": "1"})
    assert response.status_code == 400
    row = _row_form(response.content.decode(), app)
    assert f'id="pay-{app.pk}-voucher_number-error">请填写退库凭证号。' in row
    assert f'id="pay-{app.pk}-amount-error">请填写金额（元，最多两位小数），如 12345.67。' in row
    assert 'value="abc"' not in row or 'name="amount"' in row
    assert 'name="incremental"' in row and 'value="1"' in row

    client.post(url, {"voucher_number": "V-1", "amount": "100000.00", "paid_on": "2026-03-25"})
    second = approved_application(TaxpayerFactory(branch=org["branch_a"]))
    response = client.post(
        reverse("ledger:payment_create", args=[second.pk]),
        {"voucher_number": "V-1", "amount": "100000.00", "paid_on": "2026-03-25"},
    )
    assert response.status_code == 400
    row = _row_form(response.content.decode(), second)
    assert f'id="pay-{second.pk}-voucher_number-error">退库凭证号“V-1”已经录入' in row
    assert 'value="V-1"' in row


def test_registering_a_day_not_come_yet_keeps_the_date_and_says_why_beside_it(client_for):
    import datetime as dt

    from django.utils import timezone

    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    client = client_for("refund_officer")
    response = client.post(reverse("ledger:run_register"), {"day": tomorrow})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'value="{tomorrow}"' in html
    assert f'<div class="invalid-feedback d-block" id="id_day_error">{tomorrow} 尚未到来，不能登记。</div>' in html
    response = client.post(reverse("ledger:run_register"), {"day": "2026-02-30"})
    assert response.status_code == 400
    assert (
        'value="2026-02-30"' in response.content.decode() and "请按 YYYY-MM-DD 填写日期。" in response.content.decode()
    )
