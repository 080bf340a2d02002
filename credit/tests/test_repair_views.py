"""The case pages: a credit officer walks a repair from the taxpayer's credit page to the decision; the list's
filters, masked identifiers and branch scoping."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from credit.models import CreditCase, CreditRating, DishonestyEvent
from credit.tests.helpers import rated_with_a_late_return, receive_case

pytestmark = pytest.mark.django_db


@time_machine.travel(dt.datetime(2026, 5, 11, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_the_credit_officer_walks_a_repair_case(client_for, taxpayer_a):
    late = rated_with_a_late_return(taxpayer_a)
    client = client_for("credit_officer")
    page = client.get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    new_url = reverse("credit:case_new", args=[taxpayer_a.pk])
    assert new_url in page
    form = client.get(new_url)
    assert form.status_code == 200 and "未按规定期限办理纳税缴费申报" in form.content.decode()
    data = {
        "year": "2025",
        "kind": "repair",
        "events": [str(late.pk)],
        f"corrected_{late.pk}": "2026-05-06",
        "contact_name": "王会计",
        "contact_phone": "13800138000",
        "statement": "已补办申报",
        "commitment": "on",
    }
    preview = client.post(new_url, {**data, "submit": "preview"}).content.decode()
    assert "69" in preview and "71" in preview and "90日后纠正" in preview and not CreditCase.objects.exists()
    response = client.post(new_url, {**data, "submit": "receive"})
    case = CreditCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("credit:case", args=[case.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "已受理" in detail and "2026-06-01" in detail and "开始审核" in detail and "received" not in detail
    assert client.post(reverse("credit:case_act", args=[case.pk, "review"])).status_code == 302
    client.post(reverse("credit:case_act", args=[case.pk, "raise"]), {"question": "纠正日期口径"})
    client.post(reverse("credit:case_act", args=[case.pk, "answer"]), {"answer": "以补申报日为准"})
    case.refresh_from_db()
    assert case.state == "answered" and case.higher_answer == "以补申报日为准"
    decide = client.get(reverse("credit:case_decide", args=[case.pk]))
    assert decide.status_code == 200
    response = client.post(reverse("credit:case_decide", args=[case.pk]), {"granted": [str(late.pk)]})
    assert response.status_code == 302
    detail = client.get(reverse("credit:case", args=[case.pk])).content.decode()
    assert "准予" in detail and "B级 71.00 分" in detail and "上级已答复 → 准予" in detail
    assert CreditRating.objects.filter(taxpayer=taxpayer_a, basis="repaired", level="B").exists()


@time_machine.travel(dt.datetime(2026, 5, 11, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_an_ineligible_request_shows_the_reason_in_chinese(client_for, taxpayer_a):
    rated_with_a_late_return(taxpayer_a)
    open_event = DishonestyEvent.objects.create(
        taxpayer=taxpayer_a, indicator="010103", recorded_on=dt.date(2025, 9, 16)
    )
    response = client_for("credit_officer").post(
        reverse("credit:case_new", args=[taxpayer_a.pk]),
        {
            "year": "2025",
            "kind": "repair",
            "events": [str(open_event.pk)],
            "contact_name": "王会计",
            "contact_phone": "13800138000",
            "commitment": "on",
            "submit": "receive",
        },
    )
    assert response.status_code == 400 and "尚未纠正，纠正后方可申请修复" in response.content.decode()
    assert not CreditCase.objects.exists()


def test_the_list_filters_in_the_url_masks_identifiers_and_keeps_to_the_branch(
    client_for, personas, taxpayer_a, taxpayer_b
):
    cases = {}
    for taxpayer, received in ((taxpayer_a, dt.date(2026, 5, 11)), (taxpayer_b, dt.date(2026, 6, 15))):
        late = rated_with_a_late_return(taxpayer)
        cases[taxpayer.pk] = receive_case(
            personas["credit_officer"], taxpayer, {late.pk: late.corrected_on}, received_on=received
        )
    url = reverse("credit:cases")
    with time_machine.travel(dt.datetime(2026, 6, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        overdue = client_for("supervisor").get(url, {"overdue": "1"})
        assert [c.taxpayer_id for c in overdue.context["page_obj"]] == [taxpayer_a.pk]
        body = overdue.content.decode()
        assert "已超期" in body and taxpayer_a.identifier not in body
    assert [c.pk for c in client_for("officer_a").get(url).context["page_obj"]] == [cases[taxpayer_a.pk].pk]
    assert client_for("officer_a").get(reverse("credit:case", args=[cases[taxpayer_b.pk].pk])).status_code == 404
    assert client_for("supervisor").get(url, {"kind": "re_evaluation"}).context["page_obj"].paginator.count == 0
    detail = client_for("supervisor").get(reverse("credit:case", args=[cases[taxpayer_a.pk].pk])).content.decode()
    assert "开始审核" not in detail  # 局领导 views, the credit officer acts


def test_the_list_reads_a_fixed_number_of_queries(client_for, personas, org, django_assert_max_num_queries):
    from taxpayers.tests.factories import TaxpayerFactory

    for index in range(3):
        taxpayer = TaxpayerFactory(branch=org["branch_a"], name=f"城东第{index}公司")
        late = rated_with_a_late_return(taxpayer)
        receive_case(personas["credit_officer"], taxpayer, {late.pk: late.corrected_on})
    client = client_for("credit_officer")
    client.get(reverse("credit:cases"))  # warm the session and permission caches
    # session, user, permissions (2), groups, count, inbox badge, branch menu, the page's rows with their joins
    with django_assert_max_num_queries(9):
        response = client.get(reverse("credit:cases"))
    assert response.context["page_obj"].paginator.count == 3
