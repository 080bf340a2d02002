"""留抵退税 lists sorted from their column headers, the same way everywhere: 筛查批次, 候选名单 (the index and a
list's items, which no longer sort from a dropdown) and the application queue. A sorted request orders the rows
as asked (the old dropdown's values still work), and a key that names no column falls back to the default."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from refund.candidates.services import candidate_lists_build
from refund.models import CandidateItem, CandidateList, ScreeningRun
from refund.tests.applications import eligible_taxpayer as applicant
from refund.tests.applications import reviewing
from refund.tests.candidates import FIRST_PUSH, eligible_taxpayer, screened

pytestmark = pytest.mark.django_db
UNKNOWN = ("taxpayer__identifier", "-branch__name", "name;drop")


@pytest.fixture
def pushed(org):
    """Branch A: a big and a small candidate; branch B: one. Lists of 2026-03-17: the service section's and one
    per branch."""
    a_big = eligible_taxpayer(org["branch_a"], step=3_000_000, name="城东大额制造有限公司")
    a_small = eligible_taxpayer(org["branch_a"], name="城东小额贸易有限公司")
    b = eligible_taxpayer(org["branch_b"], name="城西新材料有限公司")
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    lists = {lst.branch.code if lst.branch_id else "service": lst for lst in CandidateList.objects.all()}
    items = {
        key: CandidateItem.objects.get(taxpayer=t) for key, t in (("a_big", a_big), ("a_small", a_small), ("b", b))
    }
    return {"lists": lists, **items}


# --- 候选名单: the index ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["service", "BRA", "BRB"]),  # the service section's list first, then the branches in order
        ("item_count", ["BRB", "BRA", "service"]),
        ("-item_count", ["service", "BRA", "BRB"]),
        ("refundable_total", ["BRB", "BRA", "service"]),
        *((unknown, ["service", "BRA", "BRB"]) for unknown in UNKNOWN),
    ],
)
def test_the_candidate_list_index_sorts_by_a_column(client_for, pushed, sort, expected):
    response = client_for("refund_officer").get(reverse("refund:candidate_lists"), {"sort": sort})
    lists = pushed["lists"]
    assert [lst.pk for lst in response.context["lists"]] == [lists[key].pk for key in expected]
    column = sort.removeprefix("-") if sort in ("item_count", "-item_count", "refundable_total") else "push_date"
    assert response.context["columns"][column].direction in ("asc", "desc")


def test_the_candidate_list_index_keeps_its_sort_when_filtering_by_period(client_for, pushed):
    html = client_for("refund_officer").get(reverse("refund:candidate_lists"), {"sort": "item_count"}).content
    assert '<input type="hidden" name="sort" value="item_count">' in html.decode()


# --- 候选名单: a list's items and 我的候选名单 ----------------------------------------------------------------------


def _items(response) -> list[int]:
    return [item.pk for item in response.context["page_obj"]]


def test_a_lists_items_sort_from_the_headers_not_a_dropdown(client_for, pushed):
    url = reverse("refund:candidate_list_detail", args=[pushed["lists"]["service"].pk])
    client = client_for("refund_officer")
    a_big, a_small, b = pushed["a_big"].pk, pushed["a_small"].pk, pushed["b"].pk

    default = client.get(url)
    html = default.content.decode()
    assert 'id="id_sort"' not in html  # no sort dropdown in the filter bar
    assert 'aria-sort="descending"' in html and "?sort=refundable_total" in html  # 可退税额, largest first
    assert _items(default)[0] == a_big
    assert _items(client.get(url, {"sort": "branch"})) == [a_big, a_small, b]
    assert _items(client.get(url, {"sort": "-branch"})) == [b, a_big, a_small]
    assert _items(client.get(url, {"sort": "-name"})) == _items(client.get(url, {"sort": "name"}))[::-1]
    assert _items(client.get(url, {"sort": "refundable_total"})) == _items(default)[::-1]  # the dropdown's values
    for unknown in UNKNOWN:
        assert _items(client.get(url, {"sort": unknown})) == _items(default)


def test_items_sort_by_stage_in_the_funnels_order(client_for, pushed):
    CandidateItem.objects.filter(pk=pushed["a_big"].pk).update(stage=CandidateItem.Stage.DECLINED)
    CandidateItem.objects.filter(pk=pushed["b"].pk).update(stage=CandidateItem.Stage.APPLIED)
    url = reverse("refund:candidate_list_detail", args=[pushed["lists"]["service"].pk])
    client = client_for("refund_officer")
    # 已推送 → 已申请 → 放弃申请, not the codes' alphabetical order (applied, declined, listed).
    assert _items(client.get(url, {"sort": "stage"})) == [pushed["a_small"].pk, pushed["b"].pk, pushed["a_big"].pk]
    assert _items(client.get(url, {"sort": "-stage"})) == [pushed["a_big"].pk, pushed["b"].pk, pushed["a_small"].pk]


def test_the_worklist_sorts_and_keeps_the_sort_in_its_filters(client_for, pushed):
    client = client_for("officer_a")
    response = client.get(reverse("refund:my_candidates"), {"sort": "refundable_total"})
    assert _items(response) == [pushed["a_small"].pk, pushed["a_big"].pk]
    html = response.content.decode()
    assert '<input type="hidden" name="sort" value="refundable_total">' in html and 'id="id_sort"' not in html
    assert "sort=refundable_total" in response.context["export_query"]


# --- 筛查批次 -----------------------------------------------------------------------------------------------------


def test_the_screening_runs_sort_by_a_column(client_for):
    now = timezone.now()
    runs = {}
    for key, period, age in (("march", "2026-03", 3), ("may", "2026-05", 1), ("april", "2026-04", 2)):
        run = ScreeningRun.objects.create(
            application_period=period,
            application_date=dt.date(2026, 3, 10),
            status=ScreeningRun.Status.SUCCEEDED,
            finished_at=now - dt.timedelta(days=age),
        )
        ScreeningRun.objects.filter(pk=run.pk).update(created_at=now - dt.timedelta(days=age))
        runs[key] = run.pk
    client = client_for("refund_officer")

    def order(**query):
        return [run.pk for run in client.get(reverse("refund:run_list"), query).context["runs"]]

    assert order() == [runs["may"], runs["april"], runs["march"]]  # the newest first
    assert order(sort="period") == [runs["march"], runs["april"], runs["may"]]
    assert order(sort="-period") == [runs["may"], runs["april"], runs["march"]]
    assert order(sort="finished") == [runs["march"], runs["april"], runs["may"]]
    assert order(sort="options") == order()


# --- 申请队列 ----------------------------------------------------------------------------------------------------


def test_the_queue_sorts_from_its_headers_only(client_for, personas, org):
    actor = personas["refund_officer"]
    reviewing(actor, applicant(org["branch_a"], name="城东排序甲有限公司"))
    response = client_for("refund_officer").get(reverse("refund:application_queue"), {"sort": "-amount"})
    html = response.content.decode()
    assert 'id="id_sort"' not in html  # the dropdown is gone; the headers sort
    assert '<input type="hidden" name="sort" value="-amount">' in html  # filtering keeps the sort
    assert response.context["columns"]["amount"].direction == "desc"
    unknown = client_for("refund_officer").get(reverse("refund:application_queue"), {"sort": "taxpayer__name"})
    assert unknown.status_code == 200 and unknown.context["columns"]["age"].direction == "asc"  # the default
