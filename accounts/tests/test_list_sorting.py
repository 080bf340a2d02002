"""One sorting rule for every list: the ``sort`` URL value names a whitelisted column (``-`` for descending) and
anything else falls back to the list's default, in the order and in the header links; the audit log sorts so."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import AuditEvent
from core.listing import sort_columns, sort_order

FIELDS = {"day": ("paid_on",), "amount": ("amount",), "branch": ("branch__sort_order", "branch__code")}


def _sql(order) -> list[str]:
    return [str(item) if not isinstance(item, str) else item for item in order]


def test_a_named_column_orders_by_its_fields_in_the_direction_asked():
    assert _sql(sort_order("amount", FIELDS, default="-day")) == _sql([F("amount").asc(nulls_last=True), "pk"])
    assert _sql(sort_order("-branch", FIELDS, default="-day", then=("-paid_on",))) == _sql(
        [F("branch__sort_order").desc(nulls_last=True), F("branch__code").desc(nulls_last=True), "-paid_on", "-pk"]
    )


@pytest.mark.parametrize("value", [None, "", "identifier", "-password", "amount;drop", "--amount", "paid_on"])
def test_anything_else_falls_back_to_the_default(value):
    assert _sql(sort_order(value, FIELDS, default="-day")) == _sql([F("paid_on").desc(nulls_last=True), "-pk"])


def test_the_header_links_follow_the_same_rule():
    columns = {"day": "退库日期", "amount": "退税额"}
    sorted_by_amount = sort_columns(RequestFactory().get("/", {"sort": "amount", "q": "城东", "page": "3"}), columns)
    assert sorted_by_amount["amount"].direction == "asc"
    assert sorted_by_amount["amount"].url == "?sort=-amount&q=%E5%9F%8E%E4%B8%9C"  # the filters stay, page 1
    assert sorted_by_amount["day"].direction == ""
    unknown = sort_columns(RequestFactory().get("/", {"sort": "identifier"}), columns, default="-day")
    assert (unknown["day"].direction, unknown["amount"].direction) == ("desc", "")


@pytest.mark.django_db
def test_the_audit_log_sorts_by_a_column(client_for, personas):
    with transaction.atomic():
        first = record_event(actor=personas["officer_a"], verb="update", object_type="taxpayers.taxpayer")
        second = record_event(actor=personas["admin"], verb="create", object_type="accounts.branch")
    AuditEvent.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    client = client_for("admin")

    def order(**query):
        events = client.get(reverse("accounts:audit_list"), query).context["page_obj"]
        return [event.pk for event in events if event.pk in (first.pk, second.pk)]

    assert order() == [second.pk, first.pk]  # the newest first
    assert order(sort="created") == [first.pk, second.pk]
    assert order(sort="actor") == [second.pk, first.pk]  # admin before officer_a
    assert order(sort="-actor") == [first.pk, second.pk]
    assert order(sort="verb") == [second.pk, first.pk]  # create before update
    assert order(sort="actor__password") == order()
    html = client.get(reverse("accounts:audit_list"), {"sort": "-actor"}).content.decode()
    assert 'aria-sort="descending"' in html and "?sort=actor" in html
