"""Cross-app (taxpayers → notify): a message about a taxpayer carries the taxpayer's 分局, so the service officer's
lists filter and scope it by branch. notify knows no taxpayer: it reads ``related_object.branch_id``."""

import pytest
from django.test import override_settings

from credit.tests.factories import TaxpayerFactory
from notify import selectors
from notify.models import MessageTemplate
from notify.services import Recipient, sms_batch_enqueue, sms_enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return MessageTemplate.objects.create(
        code="remind", name="申报提醒", body="{name}，请按期申报。", sign_text="【税务局】"
    )


@override_settings(SMS_QUIET_HOURS="")
def test_branch_travels_with_the_message(org, template):
    taxpayer = TaxpayerFactory(branch=org["branch_a"])
    by_object = sms_enqueue(to="13800138000", text="您好", idempotency_key="b1", related_object=taxpayer)
    explicit = sms_enqueue(
        to="13800138000", text="您好", idempotency_key="b2", related_object=taxpayer, branch_id=org["branch_b"].pk
    )
    none = sms_enqueue(to="13800138000", text="您好", idempotency_key="b3")
    assert (by_object.branch_id, explicit.branch_id, none.branch_id) == (org["branch_a"].pk, org["branch_b"].pk, None)
    batch = sms_batch_enqueue(
        name="b",
        template=template,
        key_prefix="bb",
        branch_id=org["branch_b"].pk,
        recipients=[
            Recipient("13900139000", {"name": "甲"}, related_object=taxpayer),
            Recipient("13700137000", {"name": "乙"}),
            Recipient("13600136000", {"name": "丙"}, branch_id=org["branch_a"].pk),
        ],
    )
    assert batch.branch_id == org["branch_b"].pk
    assert dict(batch.messages.values_list("recipient", "branch_id")) == {
        "13900139000": org["branch_a"].pk,
        "13700137000": org["branch_b"].pk,
        "13600136000": org["branch_a"].pk,
    }
    only_a = selectors.message_list(filters={"branch": str(org["branch_a"].pk)})
    assert set(only_a.values_list("idempotency_key", flat=True)) == {"b1", "bb:13900139000", "bb:13600136000"}
