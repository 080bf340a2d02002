"""短信记录, 短信批次 and 站内消息 sorted from their column headers: a sorted request orders the rows as asked, pages,
filters and the export keep the sort, and a key that names no column falls back to the newest first."""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from notify.models import InboxNotification, SmsBatch, SmsMessage
from notify.services import inbox_notify

pytestmark = pytest.mark.django_db
UNKNOWN = ("recipient", "-text", "created;drop")


def _message(key, *, minutes_ago, attempts=0, status="delivered"):
    message = SmsMessage.objects.create(
        recipient="13800138000", text=f"短信{key}", idempotency_key=key, status=status, attempts=attempts
    )
    SmsMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return message


@pytest.fixture
def messages():
    return {
        "old": _message("old", minutes_ago=30, attempts=3, status="failed"),
        "mid": _message("mid", minutes_ago=20, attempts=1),
        "new": _message("new", minutes_ago=10, attempts=2, status="queued"),
    }


def _keys(response):
    return [row.idempotency_key for row in response.context["page_obj"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["new", "mid", "old"]),
        ("created", ["old", "mid", "new"]),
        ("-attempts", ["old", "new", "mid"]),
        ("attempts", ["mid", "new", "old"]),
    ],
)
def test_messages_sort_by_a_column(client_for, messages, sort, expected):
    response = client_for("service_officer").get("/notify/messages/", {"sort": sort})
    assert _keys(response) == expected


@pytest.mark.parametrize("sort", UNKNOWN)
def test_messages_ignore_a_sort_that_names_no_column(client_for, messages, sort):
    response = client_for("service_officer").get("/notify/messages/", {"sort": sort})
    assert _keys(response) == ["new", "mid", "old"]
    assert response.context["columns"]["created"].direction == "desc"


def test_the_sort_stays_with_the_filters_the_pages_and_the_export(client_for, messages):
    client = client_for("service_officer")
    response = client.get("/notify/messages/", {"status": "delivered", "sort": "attempts"})
    html = response.content.decode()
    assert response.context["columns"]["attempts"].direction == "asc"
    assert '<input type="hidden" name="sort" value="attempts">' in html
    assert response.context["page_query"] == "status=delivered&sort=attempts"
    assert "/notify/messages/export/?status=delivered&amp;sort=attempts" in html
    book = openpyxl.load_workbook(io.BytesIO(client.get("/notify/messages/export/", {"sort": "-attempts"}).content))
    texts = [row[2] for row in list(book.active.values)[1:]]
    assert texts == ["短信old", "短信new", "短信mid"]


def test_batches_sort_by_a_column(client_for):
    big = SmsBatch.objects.create(name="乙批", total=300, key="big")
    small = SmsBatch.objects.create(name="甲批", total=20, key="small")
    client = client_for("service_officer")

    def names(**query):
        return [batch.name for batch in client.get("/notify/batches/", query).context["page_obj"]]

    assert names() == [small.name, big.name]  # the newest first
    assert names(sort="-total") == [big.name, small.name]
    assert names(sort="total") == [small.name, big.name]
    assert names(sort="created") == [big.name, small.name]
    assert names(sort="template__body") == [small.name, big.name]


def test_the_inbox_sorts_unread_first(personas, client_for):
    officer = personas["officer_a"]
    inbox_notify(users=[officer], title="较早的未读")
    inbox_notify(users=[officer], title="已读的")
    inbox_notify(users=[officer], title="最新的未读")
    InboxNotification.objects.filter(title="已读的").update(read_at=timezone.now())
    InboxNotification.objects.filter(title="最新的未读").update(created_at=timezone.now() + dt.timedelta(minutes=1))
    client = client_for("officer_a")

    def titles(**query):
        return [item.title for item in client.get("/notify/inbox/", query).context["page_obj"]]

    assert titles() == ["最新的未读", "已读的", "较早的未读"]
    assert titles(sort="unread") == ["最新的未读", "较早的未读", "已读的"]
    assert titles(sort="-unread") == ["已读的", "最新的未读", "较早的未读"]
    assert titles(sort="created") == ["较早的未读", "已读的", "最新的未读"]
    assert titles(sort="user__password") == titles()
