"""The credit officer's 工作台 block and a taxpayer's credit page: counts that link to their filtered lists, the
branch officer's narrower view, the empty states, and per behaviour what correcting or repairing it restores."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from credit.models import CreditRating, DishonestyEvent
from credit.repairs import services as repair_services
from credit.warnings import services as warning_services
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TODAY = NOW.date()


def _rating(taxpayer, level, score, year=2025, on=dt.date(2026, 4, 18)):
    return CreditRating.objects.create(
        taxpayer=taxpayer, year=year, level=level, score=score, evaluated_on=on, rule_set="2025"
    )


def _event(taxpayer, indicator, recorded_on, **fields):
    return DishonestyEvent.objects.create(taxpayer=taxpayer, indicator=indicator, recorded_on=recorded_on, **fields)


@pytest.fixture
def history(taxpayer_a):
    """A C for 2025 with one behaviour corrected after the rating (a repair case restores it), one still open, one
    首违不罚; and an open behaviour of 2026, the year not rated yet."""
    _rating(taxpayer_a, "B", Decimal("80"), year=2024, on=dt.date(2025, 4, 20))
    _rating(taxpayer_a, "C", Decimal("69"))
    return {
        "repairable": _event(
            taxpayer_a,
            "010101",
            dt.date(2025, 8, 16),
            tax="增值税",
            amount=Decimal("5000"),
            corrected_on=dt.date(2026, 5, 6),
        ),
        "open_rated": _event(taxpayer_a, "010103", dt.date(2025, 9, 16)),
        "no_penalty": _event(taxpayer_a, "010101", dt.date(2025, 3, 16), tax="增值税", no_penalty=True),
        "open_now": _event(taxpayer_a, "010101", dt.date(2026, 5, 16), tax="增值税"),
    }


def _row(page: str, event) -> str:
    match = re.search(rf'<tr id="event-{event.pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row for event {event.pk}"
    return re.sub(r"\s+", " ", match.group(1))


@time_machine.travel(NOW, tick=False)
def test_the_credit_page_says_what_each_behaviour_costs_and_would_restore(client_for, taxpayer_a, history):
    page = client_for("credit_officer").get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    assert page.index('id="year-2026"') < page.index('id="year-2025"') < page.index('id="year-2024"')
    assert "尚未评价" in page and "现行" in page
    repairable = _row(page, history["repairable"])
    assert "可申请修复，恢复 2 分，申请期限 2027-03-31" in repairable  # before the 2026 evaluation
    new_case = reverse("credit:case_new", args=[taxpayer_a.pk]) + f"?year=2025&amp;event={history['repairable'].pk}"
    assert new_case in repairable
    assert "今日纠正并申请修复可恢复" in _row(page, history["open_rated"])
    no_penalty = _row(page, history["no_penalty"])
    assert "首违不罚" in no_penalty and "申请修复" not in no_penalty
    assert "纠正后可挽回" in _row(page, history["open_now"])
    shown = re.sub(r'(href|action)="[^"]*"', "", page)  # addresses are not on screen; the menu links elsewhere
    assert "010101" not in shown and "repair" not in shown


@time_machine.travel(NOW, tick=False)
def test_a_repair_opened_from_a_behaviour_has_it_ticked(client_for, taxpayer_a, history):
    event = history["repairable"]
    url = reverse("credit:case_new", args=[taxpayer_a.pk]) + f"?year=2025&event={event.pk}"
    form = client_for("credit_officer").get(url).content.decode()
    assert re.search(rf'value="{event.pk}" id="id_event_{event.pk}" checked', form)
    assert f'name="corrected_{event.pk}" value="2026-05-06"' in form  # ISO, or the date input shows it empty


@time_machine.travel(NOW, tick=False)
def test_the_credit_page_lists_the_cases_and_a_viewer_gets_no_buttons(client_for, personas, taxpayer_a, history):
    event = history["repairable"]
    case = repair_services.credit_case_receive(
        actor=personas["credit_officer"],
        taxpayer=taxpayer_a,
        kind="repair",
        year=2025,
        corrections={event.pk: event.corrected_on},
        contact_name="王会计",
        contact_phone="13800138000",
    )
    page = client_for("officer_a").get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    assert reverse("credit:case", args=[case.pk]) in page and "已受理" in page
    assert reverse("credit:case_new", args=[taxpayer_a.pk]) not in page
    officer = client_for("credit_officer").get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    row = _row(officer, event)  # sent to the open case, not to a second one
    assert "已申请纳税信用修复，已受理" in row and reverse("credit:case", args=[case.pk]) in row
    assert "申请修复</a>" not in row


def test_the_credit_page_of_a_taxpayer_without_credit_data_says_so(client_for, taxpayer_a):
    page = client_for("credit_officer").get(reverse("credit:taxpayer", args=[taxpayer_a.pk])).content.decode()
    assert "尚无评价结果，也没有失信行为记录" in page and "尚无修复、复核、复评申请" in page


def test_the_taxpayer_detail_links_to_the_credit_page(client_for, taxpayer_a):
    link = reverse("credit:taxpayer", args=[taxpayer_a.pk])
    assert link in client_for("officer_a").get(reverse("taxpayers:detail", args=[taxpayer_a.pk])).content.decode()
    assert (
        link not in client_for("refund_officer").get(reverse("taxpayers:detail", args=[taxpayer_a.pk])).content.decode()
    )


@pytest.fixture
def workbench(org, personas):
    """Predictions for 2026 in both branches and a case in each, one overdue."""
    rated = {}
    for key, branch, level, score in (
        ("a_at_risk", "branch_a", "A", Decimal("95")),
        ("a_c", "branch_a", "C", Decimal("65")),
        ("b_b", "branch_b", "B", Decimal("82")),
    ):
        rated[key] = TaxpayerFactory(branch=org[branch])
        _rating(rated[key], level, score)
    TaxpayerFactory(branch=org["branch_a"])  # never rated
    for day in (1, 2):
        _event(rated["a_at_risk"], "010103", dt.date(2026, 5, day))
    late = _event(rated["a_c"], "010101", dt.date(2025, 8, 16), tax="增值税", corrected_on=dt.date(2026, 5, 6))
    late_b = _event(rated["b_b"], "010101", dt.date(2025, 8, 16), tax="增值税", corrected_on=dt.date(2026, 5, 6))
    warning_services.credit_predictions_refresh(today=TODAY)
    for taxpayer, event, received in ((rated["a_c"], late, dt.date(2026, 5, 11)), (rated["b_b"], late_b, TODAY)):
        repair_services.credit_case_receive(
            actor=personas["credit_officer"],
            taxpayer=taxpayer,
            kind="repair",
            year=2025,
            corrections={event.pk: event.corrected_on},
            contact_name="王会计",
            contact_phone="13800138000",
            received_on=received,
        )
    return rated


@time_machine.travel(NOW, tick=False)
def test_the_workbench_counts_link_to_their_filtered_lists(client_for, workbench):
    client = client_for("credit_officer")
    home = client.get(reverse("home")).content.decode()
    assert 'id="credit-workbench"' in home and 'id="at-risk-count">1<' in home
    assert workbench["a_at_risk"].name in home  # the head of the at-risk list
    all_list = reverse("credit:warning_list", args=["all"])
    shown = dict(re.findall(rf'href="{all_list}\?([a-z]+=[A-Za-z]+)">(\d+)<', home))
    assert {q: shown[q] for q in ("current=A", "current=B", "current=C", "current=none")} == {
        "current=A": "1",
        "current=B": "1",
        "current=C": "1",
        "current=none": "1",
    }
    assert sum(int(shown[f"level={level}"]) for level in "ABMCD") == 4
    for query, count in shown.items():  # each count is the size of the list it opens
        listing = client.get(f"{all_list}?{query}")
        assert listing.status_code == 200 and listing.context["page_obj"].paginator.count == int(count), query
    cases = reverse("credit:cases")
    assert 'id="open-cases">2<' in home and 'id="overdue-cases">1<' in home
    assert f'href="{cases}?state=open&amp;overdue=1"' in home or f'href="{cases}?state=open&overdue=1"' in home
    overdue = client.get(cases, {"state": "open", "overdue": "1"}).context["page_obj"]
    assert [c.taxpayer_id for c in overdue] == [workbench["a_c"].pk]


@time_machine.travel(NOW, tick=False)
def test_a_branch_officer_sees_the_cases_of_the_branch_only(client_for, workbench):
    home = client_for("officer_a").get(reverse("home")).content.decode()
    assert 'id="credit-workbench"' not in home  # the predictions are the credit officer's
    assert 'id="open-cases">1<' in home and 'id="overdue-cases">1<' in home


@time_machine.travel(NOW, tick=False)
def test_the_workbench_says_when_there_is_nothing_yet(client_for, personas):
    home = client_for("credit_officer").get(reverse("home")).content.decode()
    assert "尚无信用预测" in home and "尚无修复、复核、复评申请" in home
