"""Batches and the branch travelling with each message; audited batch creation, resends and exports."""

import threading

import pytest
from django.db import connection
from django.test import override_settings

from notify import dispatch, selectors
from notify.backends import get_backend
from notify.models import MessageTemplate, SmsBatch, SmsMessage
from notify.services import (
    Recipient,
    SmsRejected,
    batch_refresh_status,
    opt_out_add,
    sms_batch_create,
    sms_batch_enqueue,
    sms_enqueue,
    sms_export_record,
    sms_resend,
    sms_resend_failed,
)
from notify.signals import audit_requested

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return MessageTemplate.objects.create(
        code="remind", name="申报提醒", body="{name}，请按期申报。", sign_text="【税务局】"
    )


def test_branch_scope_comes_from_the_accounts_gateway(personas, org, template):
    sms_enqueue(to="13800138000", text="a", idempotency_key="a", branch_id=org["branch_a"].pk)
    sms_enqueue(to="13800138000", text="b", idempotency_key="b", branch_id=org["branch_b"].pk)
    sms_enqueue(to="13800138000", text="all", idempotency_key="all")
    def keys(user):
        return set(selectors.message_list(filters={}, user=user).values_list("idempotency_key", flat=True))

    assert keys(personas["service_officer"]) == {"a", "b", "all"}
    assert keys(personas["officer_a"]) == {"a"}  # a branch-scoped reader: its own branch only
    assert keys(personas["officer_b"]) == {"b"}
    assert [name for _, name in selectors.branch_choices(personas["officer_a"])] == ["城东税务分局"]
    every = {name for _, name in selectors.branch_choices(personas["service_officer"])}
    assert every == {"城东税务分局", "城西税务分局"}


def test_batch_keys_are_normalised_and_recipient_keys_allow_one_number_twice(template):
    batch = sms_batch_enqueue(
        name="k", template=template, key_prefix="k",
        recipients=[Recipient("138 0013 8000", {"name": "甲"}), Recipient("+8613800138000", {"name": "甲"}),
                    Recipient("13900139000", {"name": "甲公司"}, key="tp:1"),
                    Recipient("13900139000", {"name": "乙公司"}, key="tp:2")],
    )
    assert batch.total == 3  # the same number written two ways is one message
    assert set(batch.messages.values_list("idempotency_key", flat=True)) == {"k:13800138000", "k:tp:1", "k:tp:2"}


@override_settings(SMS_QUIET_HOURS="")
def test_batch_key_makes_the_batch_idempotent_and_status_follows_the_rows(template):
    recipients = [Recipient("13800138000", {"name": "甲"}), Recipient("13900139000", {"name": "乙"})]
    first = sms_batch_enqueue(name="x", template=template, recipients=recipients, key_prefix="x", batch_key="x")
    again = sms_batch_enqueue(name="x", template=template, recipients=recipients, key_prefix="x", batch_key="x")
    assert again.pk == first.pk and SmsBatch.objects.count() == 1 and SmsMessage.objects.count() == 2
    assert first.status == "queued"
    with override_settings(SMS_BATCH_SIZE=1):
        dispatch.run(backend=get_backend("console"), max_rounds=1)
    first.refresh_from_db()
    assert first.status == "sending"
    dispatch.run(backend=get_backend("console"))
    first.refresh_from_db()
    assert first.status == "done"
    failed_only = sms_batch_enqueue(name="y", template=template, recipients=[Recipient("123", {"name": "甲"})],
                                    key_prefix="y")
    assert failed_only.status == "done"  # nothing to send: finished at once
    opt = sms_batch_enqueue(name="z", template=template, recipients=[Recipient("13700137000", {"name": "丙"})],
                            key_prefix="z")
    assert opt.status == "queued"
    opt_out_add(mobile="13700137000")
    opt.refresh_from_db()
    assert opt.status == "done"


def test_batch_create_is_audited_and_idempotent(personas, template, audit_events):
    officer = personas["service_officer"]
    opt_out_add(mobile="13700137000")
    recipients = [Recipient("13800138000", {"name": "甲"}), Recipient("13700137000", {"name": "丙"}),
                  Recipient("12345", {"name": "丁"})]
    batch = sms_batch_create(actor=officer, name="五月提醒", template=template, recipients=recipients,
                             batch_key="ui:tok")
    again = sms_batch_create(actor=officer, name="五月提醒", template=template, recipients=recipients,
                             batch_key="ui:tok")
    assert again.pk == batch.pk and batch.total == 3
    event = audit_events.only("send")
    assert (event.actor, event.object_type, event.object_id) == (officer, "notify.smsbatch", str(batch.pk))
    assert "共 3 条" in event.summary and "待发送 1" in event.summary and "有误 1" in event.summary
    assert "已退订 1" in event.summary


@override_settings(SMS_QUIET_HOURS="")
def test_resend_failed_is_audited_with_who_how_many_why(personas, template, audit_events):
    officer = personas["service_officer"]
    batch = sms_batch_enqueue(name="签名错误", template=template, key_prefix="r",
                              recipients=[*(Recipient(f"1380013800{i}", {"name": "甲"}) for i in range(4)),
                                          Recipient("1380013800", {"name": "甲"})])  # refused: one digit short
    refused = batch.messages.get(error_code="invalid_mobile")
    assert refused.error_message == "手机号码无效：138****"  # lists show it: masked like any number
    SmsMessage.objects.filter(recipient__in=["13800138000", "13800138001", "13800138002"]).update(
        status="failed", error_code="IllegalSignId", attempts=1)
    batch_refresh_status(batch_ids=[batch.pk])
    opt_out_add(mobile="13800138002")
    with pytest.raises(SmsRejected) as exc:
        sms_resend_failed(messages=batch.messages.all(), reason="  ", actor=officer)
    assert exc.value.code == "reason_required"

    rows = sms_resend_failed(messages=batch.messages.all(), reason="签名编码已更正", actor=officer)
    assert len(rows) == 3
    assert {(r.status, r.resend_of.recipient) for r in rows} == {
        ("queued", "13800138000"), ("queued", "13800138001"), ("cancelled", "13800138002")}
    assert all(r.idempotency_key.endswith(":resend:1") and r.batch_id == batch.pk for r in rows)
    event = audit_events.only("resend")
    assert event.actor == officer and (event.object_type, event.object_id) == ("notify.smsbatch", str(batch.pk))
    assert "重发失败短信 3 条" in event.summary and "原因：签名编码已更正" in event.summary
    assert "另有 2 条" in event.summary  # the queued one, and the refused one: a resend could not help
    assert not selectors.resendable(SmsMessage.objects.filter(pk=refused.pk)).exists()
    with pytest.raises(SmsRejected) as exc:
        sms_resend(message=refused)
    assert exc.value.code == "not_sendable"
    assert "1 条号码已退订" in event.summary
    assert sorted(event.changes["resent"][0]) == sorted(r.resend_of_id for r in rows)
    batch.refresh_from_db()
    assert batch.status == "sending"

    # Only the latest row of a chain is offered again: the originals are not resent twice.
    with pytest.raises(SmsRejected) as exc:
        sms_resend_failed(messages=batch.messages.all(), reason="再试", actor=officer)
    assert exc.value.code == "nothing_to_resend"
    assert audit_events.only("resend") is event


@pytest.mark.django_db(transaction=True)
def test_two_officers_resending_at_once_resend_each_message_once(personas, template):
    sms_batch_enqueue(name="x", template=template, key_prefix="x",
                      recipients=[Recipient(f"1390013900{i}", {"name": "甲"}) for i in range(5)])
    SmsMessage.objects.update(status="failed", error_code="NoSignId")
    outcomes = []
    barrier = threading.Barrier(2)

    def resend(user):
        try:
            barrier.wait(5)
            outcomes.append(len(sms_resend_failed(messages=SmsMessage.objects.filter(resend_of__isnull=True),
                                                  reason="并发", actor=user)))
        except SmsRejected as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=resend, args=(personas[name],)) for name in ("service_officer", "admin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes, key=str) == sorted([5, "nothing_to_resend"], key=str)
    assert SmsMessage.objects.filter(resend_of__isnull=False).count() == 5


def test_export_record_and_no_silent_unaudited_action(personas, audit_events):
    sms_export_record(actor=personas["service_officer"], description="短信记录", row_count=7, query="status=failed")
    event = audit_events.only("export")
    assert event.summary == "导出短信记录（7 条）；筛选条件：status=failed"
    receivers = audit_requested.receivers[:]
    audit_requested.receivers = []
    audit_requested.sender_receivers_cache.clear()
    try:
        with pytest.raises(RuntimeError):
            sms_export_record(actor=personas["service_officer"], description="短信记录", row_count=1)
    finally:
        audit_requested.receivers = receivers
        audit_requested.sender_receivers_cache.clear()
