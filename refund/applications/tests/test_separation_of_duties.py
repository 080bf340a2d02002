"""岗责分离 in the workflow: the officer who confirmed an application cannot approve it, and above the bureau's
threshold (大额退税签批标准, 5,000,000 yuan as seeded) the approval waits for a supervisor's sign-off, asked again
after a new confirmation. The threshold has a history and cannot be changed for days already past."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEvent
from core.errors import ApplicationError
from refund.applications.services import application_approve, application_confirm
from refund.applications.sign_off import application_sign_off, sign_off_threshold_set
from refund.applications.workflow import ApprovalBlocked, approval_blocks, sign_off_threshold_on
from refund.models import RefundApplication, SignOffThreshold
from refund.tests.application_rows import application

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SIGN_OFF_PAGE = reverse("refund:sign_off")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


def reviewing(org, personas, amount: str, *, confirmed_by="officer_a") -> RefundApplication:
    amount = Decimal(amount)
    return application(
        branch=org["branch_a"], state="reviewing", claimed_amount=amount, confirmed_amount=amount,
        confirmed_incremental=amount, confirmed_stock=Decimal("0"), computed_incremental=amount,
        computed_stock=Decimal("0"), confirmed_by=personas[confirmed_by],
    )  # fmt: skip


def test_the_seeded_threshold_is_in_force():
    assert sign_off_threshold_on(dt.date(2026, 3, 20)) == Decimal("5000000.00")
    assert sign_off_threshold_on(dt.date(2022, 3, 31)) is None


def test_the_officer_who_confirmed_cannot_approve(org, personas):
    app = reviewing(org, personas, "100000.00", confirmed_by="refund_officer")
    with pytest.raises(ApprovalBlocked, match="您是该申请的确认人，按岗责分离须由其他审批人审批"):
        application_approve(actor=personas["refund_officer"], application=app)
    app.refresh_from_db()
    assert app.state == "reviewing" and app.approved_by is None
    other = reviewing(org, personas, "100000.00", confirmed_by="officer_a")
    assert approval_blocks(actor=personas["refund_officer"], applications=[app, other]) == {
        app.pk: approval_blocks(actor=personas["refund_officer"], applications=[app])[app.pk]
    }


def test_a_large_refund_waits_for_the_supervisors_sign_off(client_for, org, personas):
    large = reviewing(org, personas, "5000000.01")
    at_threshold = reviewing(org, personas, "5000000.00")
    blocks = approval_blocks(actor=personas["refund_officer"], applications=[large, at_threshold])
    assert list(blocks) == [large.pk]
    assert blocks[large.pk].reason == "确认退税额超过5,000,000.00元，须经局领导签批后再审批"
    with pytest.raises(ApprovalBlocked, match="须经局领导签批"):
        application_approve(actor=personas["refund_officer"], application=large)

    response = post_action(client_for("supervisor"), large, "sign_off", {"opinion": "同意，按规定审批"})
    assert response.status_code == 302
    large.refresh_from_db()
    assert (large.signed_off_by, large.sign_off_opinion) == (personas["supervisor"], "同意，按规定审批")
    assert large.state == "reviewing"  # not a state move: the refund officer still approves
    event = AuditEvent.objects.get(verb="refund_application_sign_off")
    assert event.actor == personas["supervisor"] and "5,000,000.01" in event.summary
    assert approval_blocks(actor=personas["refund_officer"], applications=[large]) == {}

    # signed once: a second sign-off is refused, and one below the threshold is not needed
    response = post_action(client_for("supervisor"), large, "sign_off", {})
    assert response.status_code == 400 and "该申请已签批，无需签批。" in response.content.decode()
    with pytest.raises(ApplicationError, match=re.escape("确认退税额未超过签批标准5,000,000.00元")):
        application_sign_off(actor=personas["supervisor"], application=at_threshold)


def test_only_the_supervisor_signs_off(client_for, org, personas):
    large = reviewing(org, personas, "6000000.00")
    assert post_action(client_for("refund_officer"), large, "sign_off", {}).status_code == 403
    large.refresh_from_db()
    assert large.signed_off_at is None


def test_a_new_confirmation_asks_for_the_sign_off_again(org, personas):
    large = reviewing(org, personas, "6000000.00")
    application_sign_off(actor=personas["supervisor"], application=large)
    RefundApplication.objects.filter(pk=large.pk).update(state="investigating")
    large.refresh_from_db()
    application_confirm(actor=personas["officer_a"], application=large)
    large.refresh_from_db()
    assert large.state == "reviewing" and large.signed_off_at is None and large.signed_off_by is None
    assert "须经局领导签批" in approval_blocks(actor=personas["refund_officer"], applications=[large])[large.pk].reason


def test_the_application_page_says_why_approval_waits(client_for, org, personas):
    large = reviewing(org, personas, "6000000.00", confirmed_by="refund_officer")
    url = reverse("refund:application_detail", args=[large.pk])
    html = client_for("refund_officer").get(url).content.decode()
    assert 'id="why-approve">您是该申请的确认人，按岗责分离须由其他审批人审批</div>' in html
    assert 'id="action-sign_off"' in html and 'id="why-sign_off">您的岗位无权办理此项</div>' in html
    html = client_for("supervisor").get(url).content.decode()
    assert 'id="action-sign_off"' in html and 'id="why-sign_off"' not in html
    small = reviewing(org, personas, "100000.00")
    html = client_for("supervisor").get(reverse("refund:application_detail", args=[small.pk])).content.decode()
    assert 'id="action-sign_off"' not in html


def test_the_sign_off_page_lists_what_waits_in_scope(client_for, org, personas):
    waiting = reviewing(org, personas, "6000000.00")
    reviewing(org, personas, "100000.00")
    signed = reviewing(org, personas, "7000000.00")
    application_sign_off(actor=personas["supervisor"], application=signed)
    html = client_for("supervisor").get(SIGN_OFF_PAGE).content.decode()
    assert "待签批的申请（1）" in html and waiting.taxpayer.name in html and signed.taxpayer.name not in html
    assert 'id="threshold-in-force">5,000,000.00</span>' in html
    assert 'id="threshold-form"' in html
    html = client_for("refund_officer").get(SIGN_OFF_PAGE).content.decode()
    assert "待签批的申请（1）" in html and 'id="threshold-form"' not in html


def test_the_threshold_is_set_for_today_or_later_with_a_reason(client_for, personas):
    supervisor = client_for("supervisor")
    response = supervisor.post(SIGN_OFF_PAGE, {"amount": "3000000", "effective_from": "2026-03-19", "reason": "x"})
    assert response.status_code == 400 and "生效日期不能早于今天" in response.content.decode()
    response = supervisor.post(SIGN_OFF_PAGE, {"amount": "3000000", "effective_from": "2026-03-20", "reason": ""})
    assert response.status_code == 400 and "请填写调整原因。" in response.content.decode()
    response = supervisor.post(
        SIGN_OFF_PAGE, {"amount": "3000000", "effective_from": "2026-03-20", "reason": "加强大额退税管理"}
    )
    assert response.status_code == 302
    assert sign_off_threshold_on(dt.date(2026, 3, 20)) == Decimal("3000000.00")
    assert sign_off_threshold_on(dt.date(2026, 3, 19)) == Decimal("5000000.00")  # the past as it was
    row = SignOffThreshold.objects.get(effective_from=dt.date(2026, 3, 20))
    assert row.set_by == personas["supervisor"]
    assert AuditEvent.objects.filter(verb="refund_sign_off_threshold_set", object_id=str(row.pk)).exists()
    with pytest.raises(ApplicationError, match="2026-03-20已有一条签批标准"):
        sign_off_threshold_set(
            actor=personas["supervisor"], amount=Decimal("1"), effective_from=dt.date(2026, 3, 20), reason="再改"
        )
    assert client_for("refund_officer").post(SIGN_OFF_PAGE, {}).status_code == 403


def post_action(client, app, action, data):
    return client.post(reverse("refund:application_action", args=[app.pk, action]), data)
