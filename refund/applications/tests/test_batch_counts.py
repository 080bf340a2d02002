"""Batch bars count what can be done: 批量审批's confirmation counts the applications that can be approved and groups
why the others cannot (the same precondition every approval checks); the reminder confirmation counts the
taxpayers that can be reminded (a mobile, not reminded yet, not opted out)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import time_machine
from django.urls import reverse

from notify.models import MessageTemplate, OptOut, SmsMessage
from refund.applications.services import application_approve
from refund.applications.workflow import ApprovalBlocked, approval_blocks
from refund.models import ApplicationRiskHit, CandidateItem, CandidateList, RefundApplication
from refund.tests.application_rows import application

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
BATCH = reverse("refund:application_batch")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


def _open_hit(app: RefundApplication) -> None:
    ApplicationRiskHit.objects.create(application=app, stage="arrival", code="credit_level", title="纳税信用级别不符")


@pytest.fixture
def selection(org):
    a = org["branch_a"]
    received = [application(branch=a, document_number=f"R-{i}") for i in range(2)]
    hit = application(branch=a, document_number="H-1", state="reviewing", confirmed_amount=100000)
    _open_hit(hit)
    ready = application(branch=a, document_number="OK-1", state="reviewing", confirmed_amount=100000)
    return {"received": received, "hit": hit, "ready": ready}


def test_none_can_be_approved_the_button_is_disabled_with_the_reasons(client_for, selection):
    ids = [a.pk for a in selection["received"]] + [selection["hit"].pk]
    response = client_for("refund_officer").post(BATCH, {"action": "approve", "ids": ids})
    assert response.status_code == 200
    html = response.content.decode()
    assert "确认批量审批：已选 3 件，可审批 0 件" in html
    assert "确认审批 2 件" not in html and "确认审批 3 件" not in html
    assert 'id="batch-confirm" disabled aria-describedby="batch-why"' in html
    why = (
        "所选申请都不能审批：2 件当前为“已受理”，只有“审核中”的申请可以审批；1 件有尚未核实的风险疑点，须核实后再审批。"
    )
    assert f'<span class="small text-body-secondary align-self-center" id="batch-why">{why}</span>' in html
    assert '<input type="hidden" name="ids"' not in html


def test_the_confirmation_counts_the_approvable_and_posts_only_them(client_for, selection):
    ids = [a.pk for a in (*selection["received"], selection["hit"], selection["ready"])]
    response = client_for("refund_officer").post(BATCH, {"action": "approve", "ids": ids})
    html = response.content.decode()
    assert "确认批量审批：已选 4 件，可审批 1 件" in html and "确认审批 1 件" in html
    assert '<strong id="blocked-count">3</strong> 件不能审批' in html
    assert "<li>2 件当前为“已受理”，只有“审核中”的申请可以审批</li>" in html
    assert "<li>1 件有尚未核实的风险疑点，须核实后再审批</li>" in html
    assert html.count('<input type="hidden" name="ids"') == 1
    assert f'<input type="hidden" name="ids" value="{selection["ready"].pk}">' in html
    assert "不能审批：有尚未核实的风险疑点" in html  # beside the row concerned


def test_the_count_and_the_approval_use_the_same_precondition(personas, selection):
    officer = personas["refund_officer"]
    blocks = approval_blocks(actor=officer, applications=[selection["hit"], selection["ready"]])
    assert set(blocks) == {selection["hit"].pk} and blocks[selection["hit"].pk].code == "open_risk_hit"
    with pytest.raises(ApprovalBlocked, match="有尚未核实的风险疑点"):
        application_approve(actor=officer, application=selection["hit"])
    selection["hit"].refresh_from_db()
    assert selection["hit"].state == "reviewing"
    outside = approval_blocks(actor=personas["officer_b"], applications=[selection["ready"]])
    assert outside[selection["ready"].pk].reason == "不在您的管辖范围内"


# --- reminders ----------------------------------------------------------------------------------------------------


@pytest.fixture
def pushed(org):
    from django.apps import apps

    from refund.candidates.reminders import REMINDER_TEMPLATE_CODE
    from refund.candidates.services import candidate_lists_build
    from refund.tests.candidates import FIRST_PUSH, eligible_taxpayer, screened

    # The reminder template as the migration seeds it, stated here: the test counts reminders, not seeding.
    importlib.import_module("refund.migrations.0005_candidate_permissions").seed_reminder_template(apps, None)
    MessageTemplate.objects.filter(code=REMINDER_TEMPLATE_CODE).update(active=True)
    people = {
        "rep": eligible_taxpayer(org["branch_a"], legal_rep_mobile="13800138000"),
        "opted": eligible_taxpayer(org["branch_a"], legal_rep_mobile="13600136000", tax_handler_mobile="13912345678"),
        "nobody": eligible_taxpayer(org["branch_a"], legal_rep_mobile="", tax_handler_mobile=""),
        "b": eligible_taxpayer(org["branch_b"], legal_rep_mobile="13700137000"),
    }
    OptOut.objects.create(mobile="13600136000", reason="纳税人要求")
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    return {"people": people, "service": CandidateList.objects.get(push_date=FIRST_PUSH, audience="service")}


def test_the_reminder_count_leaves_out_opted_out_numbers_and_says_why(client_for, pushed):
    from refund.candidates.reminders import candidate_list_remind_preview
    from refund.candidates.services import candidate_list_remind

    service = pushed["service"]
    preview = candidate_list_remind_preview(candidate_list=service)
    assert (preview.total, preview.remindable, preview.without_mobile, preview.opted_out) == (4, 2, 1, 1)
    assert dict(preview.reasons) == {"未登记法定代表人或办税人的手机号码": 1, "法定代表人手机号码已退订": 1}

    client = client_for("service_officer")
    url = reverse("refund:candidate_remind", args=[service.pk])
    html = client.get(url).content.decode()
    assert '将向其中 <span id="remindable-count">2</span> 户' in html and "确认发送 2 条" in html
    assert "<li>1 户法定代表人手机号码已退订</li>" in html
    assert "<li>1 户未登记法定代表人或办税人的手机号码</li>" in html
    detail = client.get(reverse("refund:candidate_list_detail", args=[service.pk])).content.decode()
    assert "发送提醒短信（2 户）" in detail

    outcome = candidate_list_remind(actor=None, candidate_list=service)
    assert (outcome.enqueued, outcome.unreachable) == (2, 2)  # what the count said would go, went
    assert SmsMessage.objects.filter(status="queued").count() == 2
    opted = CandidateItem.objects.get(taxpayer=pushed["people"]["opted"], push_date=service.push_date)
    assert opted.reminded_at is None and opted.reminder_error == "号码已退订"  # recorded, not sent, not retried

    html = client.get(url).content.decode()
    assert 'disabled aria-describedby="remind-why"' in html and "确认发送 0 条" not in html
    assert "<li>2 户已提醒过，不再重复发送</li>" in html
    assert "<li>1 户提醒短信未能发出（号码已退订或被拒收），不再重复发送</li>" in html
    detail = client.get(reverse("refund:candidate_list_detail", args=[service.pk])).content.decode()
    assert 'id="remind-button" disabled aria-describedby="remind-none"' in detail
    assert "没有可提醒的纳税人：2 户已提醒过，不再重复发送；" in detail


def test_the_assignment_confirmation_counts_what_will_be_assigned(client_for, personas, org):
    from refund.applications.batch import application_assign
    from refund.applications.workflow import assignment_blocks

    a = org["branch_a"]
    officer_a = personas["officer_a"]
    open_one = application(branch=a, document_number="A-OPEN")
    mine = application(branch=a, document_number="A-MINE", assigned_to=officer_a)
    paid = application(branch=a, document_number="A-PAID", state="paid")
    ids = [open_one.pk, mine.pk, paid.pk]
    client = client_for("refund_officer")
    html = client.post(BATCH, {"action": "assign", "ids": ids, "officer": officer_a.pk}).content.decode()
    assert "确认分派：已选 3 件，可分派 1 件" in html and "确认分派 1 件" in html
    assert "<li>1 件已分派给" in html and "<li>1 件当前为“已退库”，已办结的申请不再分派</li>" in html
    assert html.count('<input type="hidden" name="ids"') == 1
    # The assignment itself leaves out the same ones (one precondition).
    assert set(assignment_blocks(applications=[open_one, mine, paid], officer=officer_a)) == {mine.pk, paid.pk}
    assert (
        application_assign(actor=personas["refund_officer"], applications=[open_one, mine, paid], officer=officer_a)
        == 1
    )

    html = client.post(BATCH, {"action": "assign", "ids": [mine.pk, paid.pk], "officer": officer_a.pk}).content.decode()
    assert 'id="batch-confirm" disabled aria-describedby="batch-why"' in html and "所选申请都不能分派：" in html
