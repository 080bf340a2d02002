"""Each action of the application page through the view (POST), including refusals shown in Chinese beside the
action; entry of an application; batch approval (confirmation, then the summary) and assignment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from credit.tests.factories import rate
from refund.models import CoachingRecord, RefundApplication
from refund.tests.applications import eligible_taxpayer, receive, reviewing

pytestmark = pytest.mark.django_db
State = RefundApplication.State


def _act(client, application, action, data=None, **extra):
    return client.post(reverse("refund:application_action", args=[application.pk, action]), data or {}, **extra)


def _state(application) -> str:
    return RefundApplication.objects.values_list("state", flat=True).get(pk=application.pk)


@pytest.fixture
def taxpayer(org):
    return eligible_taxpayer(org["branch_a"], name="城东申请制造有限公司")


@pytest.fixture
def received(personas, taxpayer):
    application = receive(personas["refund_officer"], taxpayer)
    assert application.state == State.RECEIVED, application.decision_reason
    return application


def test_investigate_then_refused_the_second_time(client_for, received):
    client = client_for("officer_a")
    response = _act(client, received, "investigate", {"note": "约谈财务负责人"})
    assert response.status_code == 302
    assert _state(received) == State.INVESTIGATING
    page = client.get(response["Location"]).content.decode()
    assert "已开始调查核实。" in page and "约谈财务负责人" in page

    again = _act(client, received, "investigate")
    assert again.status_code == 400
    assert "只有“已受理、已回退”的申请可以开始调查核实，该申请当前为“调查核实”。" in again.content.decode()


def test_one_click_confirm_accepts_the_rules_figures(client_for, received):
    response = _act(client_for("officer_a"), received, "confirm")
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.state == State.REVIEWING
    assert received.confirmed_amount == received.computed_amount and received.confirmed_amount > 0
    assert received.correction_reason == ""


def test_confirm_with_a_correction_and_its_reason(client_for, received):
    lower = received.computed_amount - Decimal("100.00")
    response = _act(
        client_for("officer_a"), received, "confirm",
        {"amount": str(lower), "incremental": str(lower), "stock": "0", "reason": "扣除一张已作废的进项发票"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()
    received.refresh_from_db()
    assert received.confirmed_amount == lower and received.correction_reason == "扣除一张已作废的进项发票"


def test_confirm_refused_above_the_claim_says_why(client_for, received):
    more = received.claimed_amount + Decimal("1.00")
    response = _act(
        client_for("officer_a"), received, "confirm",
        {"amount": str(more), "incremental": str(more), "stock": "0", "reason": "多算"},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "超过申请退税额" in html and "不能多退" in html
    assert 'id="action-error"' in html
    assert _state(received) == State.RECEIVED


def test_approve_once_then_refused(client_for, personas, taxpayer):
    application = reviewing(personas["refund_officer"], taxpayer)
    client = client_for("refund_officer")
    response = _act(client, application, "approve")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.APPROVED and application.approved_by == personas["refund_officer"]
    assert "已审批通过。" in client.get(response["Location"]).content.decode()

    again = _act(client, application, "approve")
    assert again.status_code == 400
    assert "只有“审核中”的申请可以审批通过，该申请当前为“已审批”。" in again.content.decode()


def test_approve_with_a_risk_hit_returns_it_and_says_so(client_for, personas, taxpayer):
    application = reviewing(personas["refund_officer"], taxpayer)
    rate(taxpayer, "C", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    response = _act(client_for("refund_officer"), application, "approve")
    assert response.status_code == 400
    html = response.content.decode()
    assert "审批前复核发现疑点" in html and "申请已回退调查核实，未审批" in html
    assert _state(application) == State.RETURNED
    assert 'data-state="returned"' in html  # the page shows the new state
    assert "当前纳税信用级别" in html  # the finding's facts under 风险疑点


def test_return_needs_a_reason_and_keeps_the_evidence(client_for, received):
    client = client_for("officer_a")
    response = _act(client, received, "return", {"reason": "进项发票待核实", "evidence": "2026年2月进项发票3张"})
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.state == State.RETURNED and received.decision_reason == "进项发票待核实"
    transition = received.transitions.order_by("-id").first()
    assert transition.evidence == {"note": "2026年2月进项发票3张"}
    page = client.get(response["Location"]).content.decode()
    assert "核实要点：2026年2月进项发票3张" in page


def test_reject_then_every_move_is_refused(client_for, received):
    client = client_for("refund_officer")
    response = _act(client, received, "reject", {"reason": "不符合连续六个月增量留抵条件"})
    assert response.status_code == 302
    assert _state(received) == State.REJECTED
    again = _act(client, received, "reject", {"reason": "再次"})
    assert again.status_code == 400
    assert "该申请当前为“不予退税”" in again.content.decode()
    page = client.get(reverse("refund:application_detail", args=[received.pk]))
    assert all(not panel["enabled"] for panel in page.context["actions"])


def test_recompute_open_then_refused_once_approved(client_for, personas, taxpayer):
    application = reviewing(personas["refund_officer"], taxpayer)
    client = client_for("refund_officer")
    assert _act(client, application, "recompute").status_code == 302
    _act(client, application, "approve")
    response = _act(client, application, "recompute")
    # The page already shows it disabled; a stale form posted anyway gets the service's reason.
    assert response.status_code == 400
    assert "“已审批”的申请不能重新计算。" in response.content.decode()


def test_coaching_is_added_on_the_application(client_for, personas, received):
    response = client_for("officer_a").post(
        reverse("refund:application_coaching_add", args=[received.pk]),
        {"topic": "input_ratio", "notes": "讲解进项构成比例的计算", "coached_on": "2026-03-11"},
    )
    assert response.status_code == 302
    record = CoachingRecord.objects.get()
    assert (record.application, record.taxpayer_id, record.officer) == (
        received, received.taxpayer_id, personas["officer_a"],
    )  # fmt: skip


def test_coaching_refused_without_notes(client_for, received):
    response = client_for("officer_a").post(
        reverse("refund:application_coaching_add", args=[received.pk]),
        {"topic": "filing", "notes": "", "coached_on": "2026-03-11"},
    )
    assert response.status_code == 400
    assert "请填写辅导情况。" in response.content.decode()


# --- entry ----------------------------------------------------------------------------------------------------


def test_entry_receives_the_application_and_opens_it(client_for, taxpayer):
    from refund.tests.applications import rules_amount

    amount = rules_amount(taxpayer, kind="incremental")
    data = {
        "identifier": taxpayer.identifier.lower(), "application_period": "2026-03", "kind": "incremental",
        "claimed_amount": str(amount), "received_on": "2026-03-10", "document_number": "SQ-2026-0001",
    }  # fmt: skip
    client = client_for("refund_officer")
    response = client.post(reverse("refund:application_new"), data)
    assert response.status_code == 302
    application = RefundApplication.objects.get(document_number="SQ-2026-0001")
    assert response["Location"] == reverse("refund:application_detail", args=[application.pk])
    assert application.source == "manual" and application.computed_amount == amount

    duplicate = client.post(reverse("refund:application_new"), data)
    assert duplicate.status_code == 400
    assert "不能重复受理" in duplicate.content.decode()


# --- batch ----------------------------------------------------------------------------------------------------


def test_batch_approval_confirms_then_summarises(client_for, personas, org):
    actor = personas["refund_officer"]
    good = [reviewing(actor, eligible_taxpayer(org["branch_a"], name=f"城东批量{i}有限公司")) for i in range(2)]
    risky = reviewing(actor, eligible_taxpayer(org["branch_b"], name="城西风险有限公司"))
    rate(risky.taxpayer_id, "D", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    waiting = receive(actor, eligible_taxpayer(org["branch_b"], name="城西待审有限公司"))
    ids = [a.pk for a in (*good, risky, waiting)]
    client = client_for("refund_officer")
    url = reverse("refund:application_batch")

    confirm = client.post(url, {"action": "approve", "ids": ids})
    assert "确认批量审批：已选 4 件，可审批 3 件" in confirm.content.decode()
    assert all(_state(a) == State.REVIEWING for a in (*good, risky))

    summary = client.post(url, {"action": "approve", "ids": ids, "confirm": "1"})
    assert summary.status_code == 200
    html = summary.content.decode()
    assert {o.application.pk for o in summary.context["approved"]} == {a.pk for a in good}
    refused = {o.application.pk: o.reason for o in summary.context["refused"]}
    assert set(refused) == {risky.pk, waiting.pk}
    assert "审批前复核发现疑点" in refused[risky.pk]
    assert "只有“审核中”的申请可以审批通过" in refused[waiting.pk]
    assert "2</strong> 件已审批通过" in html and "2</strong> 件未审批" in html
    assert refused[risky.pk] in html
    assert [_state(a) for a in good] == [State.APPROVED, State.APPROVED]
    assert _state(risky) == State.RETURNED


def test_batch_assign_after_confirmation(client_for, personas, received):
    client = client_for("refund_officer")
    url = reverse("refund:application_batch")
    data = {
        "action": "assign",
        "ids": [received.pk],
        "officer": personas["officer_a"].pk,
        "next": "/refund/applications/",
    }
    confirm = client.post(url, data)
    assert "分派给 <strong>officer_a</strong>" in confirm.content.decode()
    assert RefundApplication.objects.get(pk=received.pk).assigned_to is None
    response = client.post(url, {**data, "confirm": "1"})
    assert response.status_code == 302 and response["Location"] == "/refund/applications/"
    assert RefundApplication.objects.get(pk=received.pk).assigned_to == personas["officer_a"]
    mine = client_for("officer_a").get(reverse("refund:my_applications"))
    assert [a.pk for a in mine.context["page_obj"]] == [received.pk]


def test_batch_assign_refused_for_an_officer_who_cannot_see_the_branch(client_for, personas, received):
    response = client_for("refund_officer").post(
        reverse("refund:application_batch"),
        {"action": "assign", "ids": [received.pk], "officer": personas["officer_b"].pk, "confirm": "1"},
        follow=True,
    )
    assert "看不到以下申请所属的分局，不能分派" in response.content.decode()
    assert RefundApplication.objects.get(pk=received.pk).assigned_to is None


def test_batch_approval_needs_the_permission(client_for, received):
    response = client_for("officer_a").post(
        reverse("refund:application_batch"), {"action": "approve", "ids": [received.pk]}
    )
    assert response.status_code == 403


# --- import ---------------------------------------------------------------------------------------------------


def test_import_page_receives_the_sample_and_summarises(client_for, org):
    from refund.applications.tests.test_application_imports import IDENTIFIERS, upload

    for identifier in IDENTIFIERS:
        eligible_taxpayer(org["branch_a"], identifier=identifier)
    response = client_for("refund_officer").post(reverse("refund:application_import"), {"file": upload()})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="created-count">3<' in html and 'id="returned-count">1<' in html
    assert "SQ330106202603000103" in html
    assert RefundApplication.objects.count() == 3


def test_import_page_lists_every_error_with_row_column_value_and_reason(client_for, org):
    from refund.applications.tests.test_application_imports import workbook

    bad = workbook([["SQ1", "91330106MA0000000X", "2026-13", "增量", "-5", "2026-03-10"]])
    response = client_for("refund_officer").post(reverse("refund:application_import"), {"file": bad})
    assert response.status_code == 400
    errors = response.context["errors"]
    assert errors and all(e.row == 2 for e in errors)
    assert {"申请退税所属期", "申请退税额"} <= {e.column for e in errors}
    html = response.content.decode()
    assert "校验未通过" in html and "未导入任何申请" in html
    assert 'id="import-errors"' in html and "2026-13" in html
    assert not RefundApplication.objects.exists()
