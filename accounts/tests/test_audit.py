import pytest
from django.db import transaction

from accounts.audit import field_changes, record_event
from accounts.models import AuditEvent
from accounts.request_context import bind_request_id


@pytest.mark.django_db
def test_record_event_carries_actor_changes_and_request_id(personas, taxpayer_a):
    with bind_request_id("req-12345678", ip_address="127.0.0.1"), transaction.atomic():
        event = record_event(
            actor=personas["refund_officer"],
            verb="update",
            target=taxpayer_a,
            changes=field_changes({"size": "small"}, {"size": "medium"}, ["size"]),
        )
    event.refresh_from_db()
    assert event.actor == personas["refund_officer"]
    assert event.object_type == "taxpayers.taxpayer"
    assert event.object_id == str(taxpayer_a.pk)
    assert event.changes == {"size": ["small", "medium"]}
    assert event.request_id == "req-12345678"
    assert event.ip_address == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction(personas):
    with pytest.raises(RuntimeError):
        record_event(actor=personas["admin"], verb="update", object_type="x", object_id="1")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_audit_row_rolls_back_with_the_change(personas):
    with pytest.raises(ValueError), transaction.atomic():
        record_event(actor=personas["admin"], verb="update", object_type="x", object_id="1")
        raise ValueError("the business change failed")
    assert AuditEvent.objects.count() == 0


def test_field_changes_lists_only_differences_in_json_form():
    from decimal import Decimal

    changes = field_changes({"a": Decimal("1.50"), "b": 2}, {"a": Decimal("2.00"), "b": 2}, ["a", "b"])
    assert changes == {"a": ["1.50", "2.00"]}


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="proxy-req-0001")
    assert response["X-Request-ID"] == "proxy-req-0001"
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_notify_actions_are_written_by_the_receiver_in_the_senders_transaction(personas):
    """notify may not import accounts: it asks for its audit events by signal, and accounts writes each one in the
    sender's transaction (the audit row and the change commit or roll back together)."""
    from notify.services import sms_export_record

    officer = personas["service_officer"]
    with transaction.atomic():
        sms_export_record(actor=officer, description="短信记录", row_count=7, query="status=failed")
    event = AuditEvent.objects.get(verb="export")
    assert (event.actor, event.object_type) == (officer, "notify.smsmessage")
    assert event.summary == "导出短信记录（7 条）；筛选条件：status=failed"
    with pytest.raises(ValueError), transaction.atomic():
        sms_export_record(actor=officer, description="短信记录", row_count=1)
        raise ValueError("the export failed")
    assert AuditEvent.objects.filter(verb="export").count() == 1
