"""The funnel of a candidate item: reminded (SMS through the notify outbox), declared (a returns import),
applied and refunded (the services the applications and ledger code will call), declined, ineligible on
verification; coaching; every change audited."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEvent
from core.errors import ApplicationError
from notify.models import MessageTemplate, SmsMessage
from refund.candidates.reminders import REMINDER_TEMPLATE_CODE, candidate_list_remind_preview
from refund.candidates.services import (
    candidate_item_coach,
    candidate_item_decline,
    candidate_item_reopen,
    candidate_item_verify,
    candidate_items_mark_applied,
    candidate_items_mark_refunded,
    candidate_list_remind,
    candidate_lists_build,
)
from refund.models import CandidateItem, CandidateList
from refund.tests.candidates import FIRST_PUSH, PERIOD, eligible_taxpayer, screened
from taxpayers.models import VatReturn
from taxpayers.services import import_job_create, import_job_run

pytestmark = pytest.mark.django_db
Stage = CandidateItem.Stage


@pytest.fixture
def built(org):
    """Three candidates of branch A and one of branch B, pushed on 2026-03-17."""
    people = {
        "rep": eligible_taxpayer(org["branch_a"], legal_rep_mobile="13800138000"),
        "handler": eligible_taxpayer(org["branch_a"], legal_rep_mobile="", tax_handler_mobile="13912345678"),
        "nobody": eligible_taxpayer(org["branch_a"], legal_rep_mobile="", tax_handler_mobile=""),
        "b": eligible_taxpayer(org["branch_b"], legal_rep_mobile="13700137000"),
    }
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    return people


def _item(taxpayer) -> CandidateItem:
    return CandidateItem.objects.get(taxpayer=taxpayer, push_date=FIRST_PUSH)


def _service_list() -> CandidateList:
    return CandidateList.objects.get(push_date=FIRST_PUSH, audience="service")


def test_the_reminder_template_is_seeded():
    template = MessageTemplate.objects.get(code=REMINDER_TEMPLATE_CODE)
    assert "{taxpayer_name}" in template.body and template.active


def test_reminders_go_to_the_legal_rep_else_the_tax_handler_once_per_item(built, personas):
    service = _service_list()
    preview = candidate_list_remind_preview(candidate_list=service)
    assert (preview.total, preview.remindable, preview.without_mobile, preview.already) == (4, 3, 1, 0)

    outcome = candidate_list_remind(actor=personas["service_officer"], candidate_list=service)

    assert (outcome.enqueued, outcome.unreachable, outcome.skipped) == (3, 1, 0)
    messages = {m.idempotency_key: m for m in SmsMessage.objects.all()}
    assert len(messages) == 3
    rep = messages[f"refund-candidate-item:{_item(built['rep']).pk}:reminder"]
    assert rep.recipient == "13800138000"
    assert built["rep"].name in rep.text and "2026年03月" in rep.text and "城东税务分局" in rep.text
    assert rep.created_by == personas["service_officer"]
    assert messages[f"refund-candidate-item:{_item(built['handler']).pk}:reminder"].recipient == "13912345678"
    assert _item(built["rep"]).reminded_at is not None
    assert _item(built["rep"]).reminder_sms_id == rep.pk
    nobody = _item(built["nobody"])
    assert (nobody.reminded_at, nobody.reminder_error) == (None, "未登记法定代表人或办税人的手机号码")
    assert AuditEvent.objects.filter(verb="candidate_remind", actor=personas["service_officer"]).count() == 1

    again = candidate_list_remind(actor=personas["service_officer"], candidate_list=service)
    assert (again.enqueued, again.unreachable) == (0, 1)  # only the one without a number is tried again
    assert SmsMessage.objects.count() == 3
    # The branch list shares the same items: reminding it adds nothing either.
    branch_a = CandidateList.objects.get(push_date=FIRST_PUSH, branch=built["rep"].branch)
    assert candidate_list_remind(actor=None, candidate_list=branch_a).enqueued == 0
    assert SmsMessage.objects.count() == 3


def test_reminders_need_the_template(built):
    MessageTemplate.objects.filter(code=REMINDER_TEMPLATE_CODE).update(active=False)
    with pytest.raises(ApplicationError, match="短信模板“留抵退税候选纳税人提醒”不存在或已停用"):
        candidate_list_remind(actor=None, candidate_list=_service_list())
    assert not SmsMessage.objects.exists()


def test_an_invalid_legal_rep_number_falls_back_to_the_tax_handler(org):
    taxpayer = eligible_taxpayer(org["branch_a"], legal_rep_mobile="14012345678", tax_handler_mobile="13912345678")
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    candidate_list_remind(actor=None, candidate_list=_service_list())
    assert SmsMessage.objects.get().recipient == "13912345678"
    assert _item(taxpayer).stage == Stage.DECLARED  # declared wins over reminded; both times are kept
    assert _item(taxpayer).reminded_at is not None


def test_a_returns_import_moves_items_to_declared(built, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    taxpayer = built["rep"]
    VatReturn.objects.filter(taxpayer=taxpayer, period="2026-02").delete()
    CandidateItem.objects.filter(taxpayer=taxpayer).update(declared_at=None, stage=Stage.LISTED)
    content = f"纳税人识别号,所属期,期末留抵税额\n{taxpayer.identifier},2026-02,6000000.00\n".encode()
    job = import_job_create(actor=None, kind="returns", uploaded_file=SimpleUploadedFile("r.csv", content))

    import_job_run(job_id=job.pk, today=dt.date(2026, 3, 18))

    item = _item(taxpayer)
    assert item.declared_at is not None
    assert item.stage == Stage.DECLARED
    event = AuditEvent.objects.get(verb="candidate_items_declared")
    assert event.changes["items"] == [item.pk]


def test_applied_and_refunded_come_from_the_applications_and_ledger_code(built):
    rep, handler = built["rep"], built["handler"]
    when = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)

    assert (
        candidate_items_mark_applied(taxpayer_ids=[rep.pk, handler.pk], application_period=PERIOD, applied_at=when) == 2
    )
    assert candidate_items_mark_applied(taxpayer_ids=[rep.pk], application_period=PERIOD) == 0  # already applied
    assert candidate_items_mark_applied(taxpayer_ids=[rep.pk], application_period="2026-04") == 0  # other period
    assert _item(rep).stage == Stage.APPLIED and _item(rep).applied_at == when

    assert candidate_items_mark_refunded(taxpayer_ids=[rep.pk, built["b"].pk], application_period=PERIOD) == 2
    assert _item(rep).stage == Stage.REFUNDED
    b = _item(built["b"])
    assert b.stage == Stage.REFUNDED and b.applied_at is not None  # a refund implies the application
    assert _item(handler).stage == Stage.APPLIED
    assert AuditEvent.objects.filter(verb="candidate_items_applied").count() == 1
    assert AuditEvent.objects.get(verb="candidate_items_refunded").changes["count"] == 2
    with pytest.raises(ApplicationError, match="申请所属期"):
        candidate_items_mark_applied(taxpayer_ids=[rep.pk], application_period="2026-3")


def test_decline_verify_reopen_and_coach_are_audited(built, personas):
    officer = personas["officer_a"]
    item = _item(built["rep"])

    with pytest.raises(ApplicationError, match="原因"):
        candidate_item_decline(actor=officer, item=item, reason=" ")
    item = candidate_item_decline(actor=officer, item=item, reason="留抵税额用于后期抵扣")
    assert (item.stage, item.closed_as, item.closed_by) == (Stage.DECLINED, "declined", officer)
    event = AuditEvent.objects.get(verb="candidate_item_decline")
    assert event.changes["stage"] == ["declared", "declined"]
    assert event.object_id == str(item.pk)

    item = candidate_item_reopen(actor=officer, item=item, reason="误登记")
    assert item.stage == Stage.DECLARED and item.closed_as == ""

    other = _item(built["handler"])
    with pytest.raises(ApplicationError, match="核实不符合时请填写原因"):
        candidate_item_verify(actor=officer, item=other, result="ineligible", note="", verified_on=dt.date(2026, 3, 18))
    other = candidate_item_verify(
        actor=officer,
        item=other,
        result="ineligible",
        note="期末留抵税额含待核实进项",
        verified_on=dt.date(2026, 3, 18),
    )
    assert (other.stage, other.closed_reason, other.verified_by) == (
        Stage.INELIGIBLE,
        "期末留抵税额含待核实进项",
        officer,
    )
    other = candidate_item_verify(
        actor=officer, item=other, result="passed", note="复核无误", verified_on=dt.date(2026, 3, 19)
    )
    assert other.stage == Stage.DECLARED and other.verification == "passed"

    coaching = candidate_item_coach(
        actor=officer, item=other, topic="退（抵）税申请表填报", notes="现场演示", coached_on=dt.date(2026, 3, 19)
    )
    assert other.coachings.get() == coaching
    verbs = list(AuditEvent.objects.filter(object_type="refund.candidateitem").values_list("verb", flat=True))
    assert sorted(verbs) == sorted(
        [
            "candidate_item_decline",
            "candidate_item_reopen",
            "candidate_item_verify",
            "candidate_item_verify",
            "candidate_item_coach",
        ]
    )


def test_facts_beat_intentions_and_applied_items_cannot_be_declined(built, personas):
    item = candidate_item_decline(actor=personas["officer_a"], item=_item(built["rep"]), reason="暂不申请")
    candidate_items_mark_applied(taxpayer_ids=[built["rep"].pk], application_period=PERIOD)
    item.refresh_from_db()
    assert item.stage == Stage.APPLIED and item.closed_as == "declined"  # the decline stays on record
    with pytest.raises(ApplicationError, match="不能登记为放弃申请"):
        candidate_item_decline(actor=personas["officer_a"], item=item, reason="再次放弃")
    with pytest.raises(ApplicationError, match="已提交申请"):
        candidate_item_verify(
            actor=personas["officer_a"], item=item, result="ineligible", note="x", verified_on=dt.date(2026, 3, 18)
        )


def test_closed_and_applied_items_are_not_reminded(built):
    candidate_items_mark_applied(taxpayer_ids=[built["rep"].pk], application_period=PERIOD)
    candidate_item_decline(actor=None, item=_item(built["handler"]), reason="继续留抵")
    outcome = candidate_list_remind(actor=None, candidate_list=_service_list())
    assert outcome.enqueued == 1  # branch B's taxpayer only
    assert SmsMessage.objects.get().recipient == "13700137000"
