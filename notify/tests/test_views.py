"""Inbox for every officer; outbox pages gated by notify permissions; masked numbers; export; resend."""

import io

import openpyxl
import pytest

from notify.models import InboxNotification, SmsMessage
from notify.services import inbox_notify

pytestmark = pytest.mark.django_db


def _row(**kw):
    fields = {"recipient": "13800138000", "text": "您好", "idempotency_key": "k1", "status": "failed",
              "error_code": "IllegalSignId"}
    fields.update(kw)
    return SmsMessage.objects.create(**fields)


def test_inbox_unread_badge_and_mark_read(personas, client_for):
    officer = personas["officer_a"]
    inbox_notify(users=[officer, personas["officer_b"]], title="分局新候选名单 12 户", link="/taxpayers/")
    client = client_for("officer_a")
    page = client.get("/notify/inbox/")
    assert page.status_code == 200
    assert "分局新候选名单 12 户" in page.content.decode()
    assert page.context["inbox_unread"] == 1
    assert 'id="inbox-unread">1<' in client.get("/").content.decode()
    item = InboxNotification.objects.get(user=officer)
    client.post("/notify/inbox/read/", {"id": item.pk})
    item.refresh_from_db()
    assert item.read_at is not None
    assert InboxNotification.objects.get(user=personas["officer_b"]).read_at is None  # not someone else's
    assert client.get("/notify/inbox/").context["inbox_unread"] == 0


@pytest.mark.parametrize(
    ("persona", "list_status", "export_status"),
    [("service_officer", 200, 200), ("refund_officer", 200, 200), ("supervisor", 200, 403),
     ("admin", 200, 200), ("officer_a", 403, 403), ("risk_officer", 403, 403)],
)
def test_access_matrix(client_for, persona, list_status, export_status):
    client = client_for(persona)
    assert client.get("/notify/messages/").status_code == list_status
    assert client.get("/notify/batches/").status_code == list_status
    assert client.get("/notify/messages/export/").status_code == export_status


def test_anonymous_is_sent_to_login(client):
    assert client.get("/notify/messages/").status_code == 302
    assert client.get("/notify/inbox/").status_code == 302


def test_list_masks_numbers_filters_and_exports(client_for):
    _row()
    _row(recipient="13900139000", idempotency_key="k2", status="delivered", error_code="")
    client = client_for("service_officer")
    html = client.get("/notify/messages/").content.decode()
    assert "138****8000" in html and "13800138000" not in html
    filtered = client.get("/notify/messages/?status=delivered")
    assert [r.recipient for r in filtered.context["page_obj"]] == ["13900139000"]
    assert "无效的签名编码（网关代码 IllegalSignId）" in html  # a gateway's code only after its meaning
    book = openpyxl.load_workbook(io.BytesIO(client.get("/notify/messages/export/?status=failed").content))
    rows = list(book.active.values)
    assert rows[0][8] == "失败原因"
    assert len(rows) == 2 and rows[1][1] == "138****8000" and rows[1][8] == "无效的签名编码（网关代码 IllegalSignId）"


def test_resend_failed(client_for):
    failed = _row()
    client = client_for("service_officer")
    # Without a reason: the confirmation (how many, what happens, why), nothing resent yet.
    confirm = client.post(f"/notify/messages/{failed.pk}/resend/")
    assert confirm.status_code == 200 and confirm.context["count"] == 1
    assert SmsMessage.objects.count() == 1
    response = client.post(f"/notify/messages/{failed.pk}/resend/", {"reason": "签名编码已更正"})
    assert response.status_code == 302
    new = SmsMessage.objects.exclude(pk=failed.pk).get()
    assert (new.status, new.idempotency_key, new.text) == ("queued", "k1:resend:1", "您好")
    assert client_for("supervisor").post(f"/notify/messages/{failed.pk}/resend/").status_code == 403


def test_menu_section(client_for):
    menu = client_for("service_officer").get("/notify/inbox/").context["menu"]
    labels = {(item["section"], item["label"]) for item in menu}
    assert {("消息通知", "短信记录"), ("消息通知", "短信批次"), ("消息通知", "站内消息")} <= labels
