import datetime as dt
import io

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.audit import field_changes, record_event
from accounts.models import AuditEvent
from accounts.request_context import bind_request_id
from accounts.selectors import audit_events_for_user

pytestmark = pytest.mark.django_db

LIST_URL = reverse("accounts:audit_list")
EXPORT_URL = reverse("accounts:audit_export")


@pytest.fixture
def events(personas, taxpayer_a):
    with bind_request_id("req-update-0001"), transaction.atomic():
        update = record_event(
            actor=personas["refund_officer"],
            verb="update",
            target=taxpayer_a,
            changes=field_changes({"size": "small"}, {"size": "medium"}, ["size"]),
        )
    with bind_request_id("req-reveal-0002"), transaction.atomic():
        reveal = record_event(actor=personas["officer_a"], verb="view_contacts", target=taxpayer_a)
    # An older event, from another day (Asia/Shanghai).
    with transaction.atomic():
        old = record_event(actor=personas["admin"], verb="create", object_type="accounts.branch", object_id="9")
    AuditEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.make_aware(dt.datetime(2025, 1, 2, 23, 30))  # 2025-01-02 local, 15:30 UTC
    )
    return {"update": update, "reveal": reveal, "old": old}


def ids(response) -> list[int]:
    return [e.pk for e in response.context["page_obj"]]


def test_audit_page_shows_changes_before_and_after(client_for, events):
    response = client_for("supervisor").get(LIST_URL)
    assert response.status_code == 200
    assert ids(response) == [events["reveal"].pk, events["update"].pk, events["old"].pk]
    html = response.content.decode()
    assert "企业规模：</span>小型 → 中型" in html  # the field's verbose name, before → after
    assert "查看完整信息" in html
    assert "纳税人 · " in html
    assert "共 3 条" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "officer_a"}, ["reveal"]),
        ({"verb": "update"}, ["update"]),
        ({"object_type": "accounts.branch"}, ["old"]),
        ({"request_id": "req-update-0001"}, ["update"]),
        ({"date_to": "2025-01-02"}, ["old"]),
        ({"date_from": "2025-01-03"}, ["reveal", "update"]),
        ({"date_from": "2025-01-02", "date_to": "2025-01-02"}, ["old"]),
        ({"date_from": "2025-01-03", "date_to": "2025-01-03"}, []),
    ],
)
def test_audit_filters(client_for, events, params, expected):
    response = client_for("admin").get(LIST_URL, params)
    assert ids(response) == [events[name].pk for name in expected]


def test_empty_state_says_why(client_for, events):
    html = client_for("admin").get(LIST_URL, {"verb": "update", "actor": "officer_b"}).content.decode()
    assert "没有符合筛选条件的审计记录" in html


@pytest.mark.parametrize("username", ["officer_a", "refund_officer", "service_officer", "risk_officer"])
def test_other_roles_are_refused(client_for, username):
    assert client_for(username).get(LIST_URL).status_code == 403
    assert client_for(username).get(EXPORT_URL).status_code == 403


def test_selector_returns_nothing_without_the_permission(personas, events):
    assert audit_events_for_user(user=personas["refund_officer"], filters={}).count() == 0
    assert audit_events_for_user(user=personas["supervisor"], filters={"verb": "update"}).count() == 1


def test_audit_export_is_filtered_and_itself_audited(client_for, personas, events):
    response = client_for("admin").get(EXPORT_URL, {"verb": "update"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ("时间", "操作人", "操作")
    assert len(rows) == 2
    assert rows[1][1] == "refund_officer（refund_officer）"
    assert rows[1][2] == "修改"
    assert rows[1][7] == "企业规模：小型 → 中型"
    assert rows[1][8] == "req-update-0001"
    export = AuditEvent.objects.get(verb="export")
    assert export.actor == personas["admin"]
    assert export.object_type == "accounts.auditevent"
    assert "1 条" in export.summary and "verb=update" in export.summary


def test_audit_list_query_count(client_for, personas, taxpayer_a, django_assert_max_num_queries):
    for n in range(30):
        with transaction.atomic():
            record_event(actor=personas[("officer_a", "admin")[n % 2]], verb="update", target=taxpayer_a)
    client = client_for("admin")
    with django_assert_max_num_queries(12):
        response = client.get(LIST_URL)
    assert len(response.context["page_obj"]) == 30
