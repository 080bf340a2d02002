"""直接判级修复 on PostgreSQL: a year rated D directly (a 非正常户 whose status was lifted) is repaired to the level
its score gives, at most B; refused while the cause is not cleared, and a second 非正常户 repair in the same
calendar year is refused."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from credit.models import CreditCase, CreditRating, DishonestyEvent
from credit.repairs import services
from credit.repairs.figures import DirectDClaim
from credit.repairs.services import CaseRefused
from credit.signals import rating_changed
from credit.tests.helpers import receive_case

pytestmark = pytest.mark.django_db

NON_NORMAL = CreditCase.DirectDCause.NON_NORMAL
LIFTED = DirectDClaim(NON_NORMAL, dt.date(2025, 6, 2))


def _direct_d(taxpayer, year):
    return CreditRating.objects.create(
        taxpayer=taxpayer,
        year=year,
        level="D",
        score=None,
        evaluated_on=dt.date(year + 1, 4, 20),
        rule_set="2014",
        note="直接判级",
    )


def _receive(officer, taxpayer, year, claim, received_on=dt.date(2025, 6, 10)):
    return receive_case(officer, taxpayer, {}, year=year, received_on=received_on, direct_d=claim)


def test_a_lifted_non_normal_account_is_repaired_to_b_at_most(personas, taxpayer_a, django_capture_on_commit_callbacks):
    _direct_d(taxpayer_a, 2024)
    officer = personas["credit_officer"]
    case = _receive(officer, taxpayer_a, 2024, LIFTED)
    assert (case.direct_d_cause, case.direct_d_cleared_on) == (NON_NORMAL, dt.date(2025, 6, 2))
    assert case.level_before == "D" and case.score_before is None
    assert case.level_after == "B" and case.score_after >= Decimal(90)  # no deduction: an A capped at B
    services.credit_case_review(actor=officer, case_id=case.pk)
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["level"])

    rating_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case = services.credit_case_decide(
                actor=officer, case_id=case.pk, granted_event_ids=[], direct_d_granted=True, on=dt.date(2025, 6, 20)
            )
    finally:
        rating_changed.disconnect(receiver)
    assert case.state == "approved"
    new = case.new_rating
    assert (new.level, new.basis, new.year, new.evaluated_on) == ("B", "repaired", 2024, dt.date(2025, 6, 20))
    assert new.score == case.score_after
    assert received == ["B"]


def test_a_direct_d_not_cleared_is_refused(personas, taxpayer_a):
    _direct_d(taxpayer_a, 2024)
    officer = personas["credit_officer"]
    with pytest.raises(CaseRefused) as refused:
        _receive(officer, taxpayer_a, 2024, DirectDClaim(NON_NORMAL, None))
    assert "尚未解除" in refused.value.reasons[0]
    with pytest.raises(CaseRefused) as refused:
        _receive(officer, taxpayer_a, 2024, DirectDClaim("", None))
    assert "请选择直接判级的情形" in refused.value.reasons[0]
    assert not CreditCase.objects.exists()


def test_a_second_non_normal_repair_in_the_same_year_is_refused(personas, taxpayer_a):
    _direct_d(taxpayer_a, 2023)
    _direct_d(taxpayer_a, 2024)
    officer = personas["credit_officer"]
    # 2023 first, applied for late but with 12 clean months before applying; 2023 is then B, so 2024 is not a kept D.
    case = _receive(officer, taxpayer_a, 2023, LIFTED)
    services.credit_case_review(actor=officer, case_id=case.pk)
    services.credit_case_decide(
        actor=officer, case_id=case.pk, granted_event_ids=[], direct_d_granted=True, on=dt.date(2025, 6, 20)
    )
    with pytest.raises(CaseRefused) as refused:
        _receive(officer, taxpayer_a, 2024, LIFTED, received_on=dt.date(2025, 7, 1))
    assert refused.value.reasons == ["非正常户修复每个纳税年度只能申请一次，2025年已准予过一次。"]
    # The next calendar year it may be applied for again.
    case = _receive(officer, taxpayer_a, 2024, LIFTED, received_on=dt.date(2026, 1, 5))
    assert case.level_after == "B"


def test_after_the_year_after_the_direct_d_only_with_12_clean_months(personas, taxpayer_a):

    _direct_d(taxpayer_a, 2023)
    DishonestyEvent.objects.create(taxpayer=taxpayer_a, indicator="010103", recorded_on=dt.date(2025, 3, 16))
    with pytest.raises(CaseRefused) as refused:
        _receive(personas["credit_officer"], taxpayer_a, 2023, LIFTED)
    assert refused.value.reasons == [
        "已超过直接判级修复的申请期限（2024-12-31），且申请前连续12个月内有新的失信行为记录。"
    ]


@time_machine.travel(dt.datetime(2025, 6, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_the_form_asks_for_the_cause_and_the_day_it_was_cleared(client_for, taxpayer_a):
    _direct_d(taxpayer_a, 2024)
    client = client_for("credit_officer")
    url = reverse("credit:case_new", args=[taxpayer_a.pk])
    page = client.get(url + "?year=2024").content.decode()
    assert "直接判级D级" in page and "情形解除日期" in page
    data = {
        "year": "2024",
        "kind": "repair",
        "direct_d_cause": NON_NORMAL,
        "contact_name": "王会计",
        "contact_phone": "13800138000",
        "commitment": "on",
    }
    refused = client.post(url, {**data, "submit": "preview"})
    assert refused.status_code == 400 and "尚未解除" in refused.content.decode()
    preview = client.post(url, {**data, "direct_d_cleared_on": "2025-06-02", "submit": "preview"}).content.decode()
    assert "非正常户，已履行相关法定义务并解除非正常户状态，2025-06-02解除" in preview and "不得评为A级" in preview
    response = client.post(url, {**data, "direct_d_cleared_on": "2025-06-02", "submit": "receive"})
    case = CreditCase.objects.get()
    assert response.status_code == 302 and case.direct_d_cause == NON_NORMAL
    client.post(reverse("credit:case_act", args=[case.pk, "review"]))
    decide = client.get(reverse("credit:case_decide", args=[case.pk])).content.decode()
    assert "准予直接判级修复" in decide and "2025-06-02解除" in decide
    assert client.post(reverse("credit:case_decide", args=[case.pk]), {"direct_d_granted": "on"}).status_code == 302
    assert CreditRating.objects.filter(taxpayer=taxpayer_a, year=2024, basis="repaired", level="B").exists()
