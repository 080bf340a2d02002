"""候选名单 pages: branch scoping on every page and export, filters, funnel counts, reminders by one click with a
confirmation, the item page's records, the worklist, and bounded queries on the list pages."""

import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from notify.models import SmsMessage
from refund.candidates.services import candidate_items_mark_applied, candidate_lists_build
from refund.models import CandidateItem, CandidateList
from refund.tests.candidates import FIRST_PUSH, PERIOD, eligible_taxpayer, screened

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def pushed(org, personas):
    """Branch A: two candidates (one big); branch B: one. Built on 2026-03-17."""
    a_big = eligible_taxpayer(org["branch_a"], step=3_000_000, name="城东大额制造有限公司")
    a_small = eligible_taxpayer(org["branch_a"], name="城东小额贸易有限公司")
    b = eligible_taxpayer(org["branch_b"], name="城西新材料有限公司")
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    lists = {
        lst.branch.code if lst.branch_id else "service": lst for lst in CandidateList.objects.select_related("branch")
    }
    items = {t: CandidateItem.objects.get(taxpayer=t) for t in (a_big, a_small, b)}
    return {"lists": lists, "a_big": items[a_big], "a_small": items[a_small], "b": items[b]}


def _names(response) -> set[str]:
    return {item.taxpayer.name for item in response.context["page_obj"]}


def _export_names(response) -> set[str]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("推送日期", "申请所属期", "纳税人识别号", "纳税人名称")
    return {row[3] for row in rows[1:]}


def test_a_branch_officer_sees_only_its_branchs_lists_and_items(client_for, pushed):
    lists = pushed["lists"]
    a, b = client_for("officer_a"), client_for("officer_b")

    index = a.get(reverse("refund:candidate_lists"))
    assert {lst.pk for lst in index.context["lists"]} == {lists["BRA"].pk}
    assert _names(a.get(reverse("refund:candidate_list_detail", args=[lists["BRA"].pk]))) == {
        "城东大额制造有限公司",
        "城东小额贸易有限公司",
    }
    for other in (lists["BRB"], lists["service"]):
        assert a.get(reverse("refund:candidate_list_detail", args=[other.pk])).status_code == 404
        assert a.get(reverse("refund:candidate_list_export", args=[other.pk])).status_code == 404
    assert a.get(reverse("refund:candidate_item", args=[pushed["b"].pk])).status_code == 404
    assert b.get(reverse("refund:candidate_item", args=[pushed["a_big"].pk])).status_code == 404
    assert (
        a.post(
            reverse("refund:candidate_item_coach", args=[pushed["b"].pk]), {"topic": "x", "coached_on": "2026-03-18"}
        ).status_code
        == 404
    )
    assert not pushed["b"].coachings.exists()
    assert _export_names(a.get(reverse("refund:candidate_list_export", args=[lists["BRA"].pk]))) == {
        "城东大额制造有限公司",
        "城东小额贸易有限公司",
    }
    assert _names(b.get(reverse("refund:my_candidates"))) == {"城西新材料有限公司"}
    assert _export_names(b.get(reverse("refund:my_candidates_export"))) == {"城西新材料有限公司"}


def test_the_service_list_holds_every_branch_and_filters_stay_in_the_url(client_for, pushed):
    client = client_for("service_officer")
    service = pushed["lists"]["service"]
    url = reverse("refund:candidate_list_detail", args=[service.pk])
    assert _names(client.get(url)) == {"城东大额制造有限公司", "城东小额贸易有限公司", "城西新材料有限公司"}
    assert _names(client.get(url, {"branch": "BRB"})) == {"城西新材料有限公司"}
    big = pushed["a_big"].refundable_total
    assert _names(client.get(url, {"amount_min": str(big)})) == {"城东大额制造有限公司"}
    assert _names(client.get(url, {"amount_max": str(big - 1)})) == {"城东小额贸易有限公司", "城西新材料有限公司"}
    assert _names(client.get(url, {"listed": "old"})) == set()
    assert _names(client.get(url, {"regime": pushed["a_big"].regime, "q": "城西"})) == {"城西新材料有限公司"}
    candidate_items_mark_applied(taxpayer_ids=[pushed["b"].taxpayer_id], application_period=PERIOD)
    response = client.get(url, {"stage": "applied"})
    assert _names(response) == {"城西新材料有限公司"}
    assert {row["key"]: row["count"] for row in response.context["funnel"]}["applied"] == 1

    export = client.get(reverse("refund:candidate_list_export", args=[service.pk]), {"stage": "applied"})
    assert _export_names(export) == {"城西新材料有限公司"}
    event = AuditEvent.objects.get(verb="export", object_type="refund.candidatelist")
    assert event.actor.username == "service_officer" and "stage=applied" in event.summary and "1 条" in event.summary


def test_one_click_reminding_with_a_confirmation(client_for, pushed):
    client = client_for("service_officer")
    service = pushed["lists"]["service"]
    url = reverse("refund:candidate_remind", args=[service.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert '将向其中 <span id="remindable-count">3</span> 户候选纳税人' in page.content.decode()
    # The template as officers read it: its variables by their Chinese names, never the keys.
    assert "{纳税人名称}：经初步筛查" in page.content.decode() and "taxpayer_name" not in page.content.decode()
    assert not SmsMessage.objects.exists()

    response = client.post(url)
    assert response.status_code == 302
    assert SmsMessage.objects.count() == 3
    assert client.post(url).status_code == 302
    assert SmsMessage.objects.count() == 3
    assert "没有需要提醒的纳税人" in client.get(url).content.decode()
    # Only the service section sends reminders.
    assert (
        client_for("officer_a").post(reverse("refund:candidate_remind", args=[pushed["lists"]["BRA"].pk])).status_code
        == 403
    )


@time_machine.travel(dt.datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI))
def test_the_item_page_records_verification_coaching_and_declines(client_for, pushed):
    client = client_for("officer_a")
    item = pushed["a_small"]
    url = reverse("refund:candidate_item", args=[item.pk])

    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "城东小额贸易有限公司" in text and "✓ 该政策的各项条件均满足" in text

    response = client.post(
        reverse("refund:candidate_item_verify", args=[item.pk]),
        {"result": "ineligible", "note": "", "verified_on": "2026-03-18"},
    )
    assert response.status_code == 400  # refused: no reason, said beside the reason with the choice kept
    item.refresh_from_db()
    assert item.verification == ""
    client.post(
        reverse("refund:candidate_item_verify", args=[item.pk]),
        {"result": "ineligible", "note": "进项发票异常", "verified_on": "2026-03-18"},
    )
    item.refresh_from_db()
    assert (item.stage, item.closed_reason) == ("ineligible", "进项发票异常")
    client.post(
        reverse("refund:candidate_item_coach", args=[item.pk]),
        {"topic": "政策解读", "notes": "电话辅导", "coached_on": "2026-03-18"},
    )
    assert item.coachings.get().officer.username == "officer_a"
    followed = client.get(url).content.decode()
    assert "政策解读" in followed and "进项发票异常" in followed and "操作记录" in followed
    # Service officers may read the item but not record on it.
    assert (
        client_for("service_officer")
        .post(reverse("refund:candidate_item_decline", args=[item.pk]), {"reason": "x"})
        .status_code
        == 403
    )


def test_the_worklist_shows_each_taxpayer_once_and_open_ones_by_default(client_for, pushed):
    from refund.candidates.services import candidate_item_decline
    from refund.tests.candidates import MONTH_END_PUSH

    candidate_item_decline(actor=None, item=pushed["a_small"], reason="继续留抵")
    screened(day=MONTH_END_PUSH)
    candidate_lists_build(actor=None, push_date=MONTH_END_PUSH)
    client = client_for("officer_a")
    response = client.get(reverse("refund:my_candidates"))
    rows = list(response.context["page_obj"])
    assert [(r.taxpayer.name, r.push_date) for r in rows] == [("城东大额制造有限公司", MONTH_END_PUSH)]
    everything = client.get(reverse("refund:my_candidates"), {"stage": ""})
    assert _names(everything) == {"城东大额制造有限公司", "城东小额贸易有限公司"}


def test_list_pages_use_a_bounded_number_of_queries(client_for, pushed, org):
    from refund.tests.candidates import MONTH_END_PUSH

    client = client_for("refund_officer")
    service = pushed["lists"]["service"]

    def measure() -> dict:
        counts = {}
        for name, url in {
            "index": reverse("refund:candidate_lists"),
            "detail": reverse("refund:candidate_list_detail", args=[service.pk]),
            "mine": reverse("refund:my_candidates"),
        }.items():
            client.get(url)  # warm the session and content types
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts[name] = len(ctx)
        return counts

    small = measure()
    for _ in range(6):  # more taxpayers, a second push date: more lists and items on every page
        eligible_taxpayer(org["branch_a"])
    screened(day=MONTH_END_PUSH)
    candidate_lists_build(actor=None, push_date=MONTH_END_PUSH)
    service = CandidateList.objects.get(push_date=MONTH_END_PUSH, audience="service")
    large = measure()
    assert large == small, (small, large)
    assert max(large.values()) <= 20, large


def test_menu_entries_under_the_refund_area(client_for, pushed):
    labels = lambda who: {item["label"] for item in client_for(who).get(reverse("home")).context["menu"]}  # noqa: E731
    assert {"候选名单", "我的候选名单"} <= labels("officer_a")
    assert "候选名单" in labels("service_officer") and "我的候选名单" not in labels("service_officer")
    assert not {"候选名单", "我的候选名单"} & labels("credit_officer")


@time_machine.travel(dt.datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI))
def test_a_refused_item_form_keeps_what_was_typed_and_shows_the_error_beside_the_field(client_for, pushed):
    client = client_for("officer_a")
    item = pushed["a_small"]
    response = client.post(
        reverse("refund:candidate_item_verify", args=[item.pk]),
        {"result": "ineligible", "note": "  ", "verified_on": "2026-03-16"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = html[html.index('id="verify-form"') : html.index("</form>", html.index('id="verify-form"'))]
    assert 'value="ineligible" class="form-check-input" id="id_verify_result_1" required checked' in form
    assert 'value="2026-03-16"' in form
    assert '<div class="text-danger small" id="id_verify_note_error">核实不符合时请填写原因' in form
    assert 'aria-invalid="true"' in form
    assert 'class="alert' not in html.split("<main")[-1]  # no banner: the error is beside the field

    response = client.post(
        reverse("refund:candidate_item_verify", args=[item.pk]),
        {"result": "", "note": "电话核实，进项发票正常", "verified_on": "2026-03-19"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "电话核实，进项发票正常</textarea>" in html
    assert 'id="id_verify_result_error">请选择调查结论' in html
    assert 'id="id_verify_verified_on_error">调查日期不能晚于今天。' not in html  # a form error first
    response = client.post(
        reverse("refund:candidate_item_verify", args=[item.pk]),
        {"result": "passed", "note": "电话核实", "verified_on": "2026-03-19"},
    )
    assert 'id="id_verify_verified_on_error">调查日期不能晚于今天。' in response.content.decode()

    response = client.post(
        reverse("refund:candidate_item_coach", args=[item.pk]),
        {"topic": "", "notes": "讲解了申请表填报", "coached_on": "2026-03-18"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "讲解了申请表填报</textarea>" in html and 'id="id_coach_topic_error">请填写辅导主题' in html
    response = client.post(reverse("refund:candidate_item_decline", args=[item.pk]), {"reason": ""})
    assert response.status_code == 400 and 'id="id_decline_reason_error">请填写纳税人放弃申请的原因' in (
        response.content.decode()
    )
    stage = item.stage
    item.refresh_from_db()
    assert (item.verification, item.stage, item.coachings.count()) == ("", stage, 0)  # nothing was recorded
