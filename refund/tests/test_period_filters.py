"""A period in a list's filters that is not a month (2026-13) is an error shown beside the filter, never a list that
is silently empty: the queue, 我的待办, the candidate lists and the worklist 我的候选名单."""

import datetime as dt

import pytest
from django.urls import reverse

from core.periods import Period
from refund.candidates.services import candidate_lists_build
from refund.tests.application_rows import application
from refund.tests.candidates import FIRST_PUSH, eligible_taxpayer, screened

pytestmark = pytest.mark.django_db
BAD = "2026-13"
SAYS_WHY = "“2026-13”不是有效的所属期，请按 YYYY-MM 填写（月份为 01 至 12），如 2026-03。"


@pytest.fixture
def two_periods(org, personas):
    return {
        "march": application(branch=org["branch_a"], document_number="P-03", assigned_to=personas["refund_officer"]),
        "february": application(
            branch=org["branch_a"],
            document_number="P-02",
            application_period="2026-02",
            received_on=dt.date(2026, 2, 20),
            assigned_to=personas["refund_officer"],
        ),
    }


@pytest.mark.parametrize("url_name", ["refund:application_queue", "refund:my_applications"])
def test_a_bad_period_in_the_queue_says_why_and_does_not_empty_the_list(client_for, two_periods, url_name):
    client = client_for("refund_officer")
    url = reverse(url_name)
    response = client.get(url, {"application_period": BAD})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"所属期：{SAYS_WHY}（该条件未生效）" in html
    assert f'value="{BAD}"' in html  # what was typed stays in the field
    assert {a.document_number for a in response.context["page_obj"]} == {"P-03", "P-02"}
    # A good one still filters, and 2026-2 / 2026年2月 mean the same month.
    for value in ("2026-02", "2026-2", "2026年2月"):
        page = client.get(url, {"application_period": value})
        assert [a.document_number for a in page.context["page_obj"]] == ["P-02"], value
        assert "不是有效的所属期" not in page.content.decode()


def test_a_bad_amount_and_a_bad_period_are_both_shown(client_for, two_periods):
    html = (
        client_for("refund_officer")
        .get(reverse("refund:application_queue"), {"application_period": BAD, "amount_min": "abc"})
        .content.decode()
    )
    assert SAYS_WHY in html and "申请额≥（元）：" in html


@pytest.fixture
def pushed(org, personas):
    eligible_taxpayer(org["branch_a"], name="城东制造有限公司")
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)


def test_a_bad_period_on_the_candidate_lists_says_why(client_for, pushed):
    client = client_for("refund_officer")
    response = client.get(reverse("refund:candidate_lists"), {"period": BAD})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{SAYS_WHY}（该条件未生效）" in html
    assert len(response.context["lists"]) == 3  # every list (the service section and two branches), not none
    assert response.context["period"] == ""
    assert len(client.get(reverse("refund:candidate_lists"), {"period": "2026-3"}).context["lists"]) == 3


def test_a_bad_period_on_the_worklist_says_why_and_shows_the_latest_period(client_for, pushed):
    client = client_for("officer_a")
    response = client.get(reverse("refund:my_candidates"), {"period": BAD})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{SAYS_WHY}（已改为显示2026年03月）" in html
    assert response.context["period"] == Period(2026, 3)
    assert [i.taxpayer.name for i in response.context["page_obj"]] == ["城东制造有限公司"]
    export = client.get(reverse("refund:my_candidates_export"), {"period": BAD})
    assert export.status_code == 200
