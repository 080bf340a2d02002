"""Building the candidate lists (候选名单) from real screening runs on factory data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import AuditEvent, Branch
from core.errors import ApplicationError
from core.periods import Period
from credit.tests.factories import rate
from refund.candidates.push_dates import NotAPushDate, latest_push_date, month_push_dates
from refund.candidates.services import candidate_items_mark_applied, candidate_lists_build
from refund.models import CandidateItem, CandidateList
from refund.rules.conditions import CONDITION_BITS
from refund.tests.candidates import FIRST_PUSH, MONTH_END_PUSH, PERIOD, eligible_taxpayer, ineligible_taxpayer, screened

pytestmark = pytest.mark.django_db


def test_push_dates_follow_the_calendar():
    assert month_push_dates(2026, 3) == [FIRST_PUSH, MONTH_END_PUSH]
    assert month_push_dates(2023, 10) == [dt.date(2023, 10, 24), dt.date(2023, 10, 31)]  # official table: 23rd
    assert latest_push_date(dt.date(2026, 3, 20)) == FIRST_PUSH
    assert latest_push_date(dt.date(2026, 3, 5)) == dt.date(2026, 2, 28)  # a make-up working Saturday


def test_one_list_per_branch_and_one_for_the_service_section(org, personas):
    a1 = eligible_taxpayer(org["branch_a"], step=2_000_000)
    a2 = eligible_taxpayer(org["branch_a"])
    b1 = eligible_taxpayer(org["branch_b"])
    ineligible_taxpayer(org["branch_b"])
    run = screened()

    outcome = candidate_lists_build(actor=personas["refund_officer"], push_date=FIRST_PUSH)

    assert outcome.created is True
    lists = {(lst.audience, lst.branch_id): lst for lst in CandidateList.objects.filter(push_date=FIRST_PUSH)}
    assert set(lists) == {("service", None), ("branch", org["branch_a"].pk), ("branch", org["branch_b"].pk)}
    service, list_a, list_b = (
        lists[("service", None)],
        lists[("branch", org["branch_a"].pk)],
        lists[("branch", org["branch_b"].pk)],
    )
    assert {i.taxpayer_id for i in list_a.items.all()} == {a1.pk, a2.pk}
    assert {i.taxpayer_id for i in list_b.items.all()} == {b1.pk}
    assert (service.item_count, list_a.item_count, list_b.item_count) == (3, 2, 1)
    # Each item is the screening's snapshot: regime, amounts, no failed condition for eligible taxpayers.
    for item in CandidateItem.objects.filter(push_date=FIRST_PUSH):
        result = run.results.get(taxpayer_id=item.taxpayer_id)
        assert item.screening_result_id == result.pk
        assert (item.regime, item.refundable_total, item.refundable_incremental) == (
            result.regime,
            result.refundable_total,
            result.refundable_incremental,
        )
        assert item.refundable_total > 0
        assert item.failed_conditions == []
        assert item.source == CandidateItem.Source.SCREENING
        assert item.previously_listed is False
        assert item.return_period == Period(2026, 2)
        assert item.stage == CandidateItem.Stage.DECLARED  # the 2026-02 return is already on file
    assert service.refundable_total == list_a.refundable_total + list_b.refundable_total
    assert list_a.refundable_total == sum(i.refundable_total for i in list_a.items.all())
    event = AuditEvent.objects.get(verb="candidate_lists_build")
    assert event.actor == personas["refund_officer"]
    assert "候选 3 户" in event.summary


def test_an_item_whose_return_is_not_on_file_starts_listed(org):
    from taxpayers.models import VatReturn

    taxpayer = eligible_taxpayer(org["branch_a"])
    screened()
    VatReturn.objects.filter(taxpayer=taxpayer, period="2026-02").delete()  # as if screened on other data
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    item = CandidateItem.objects.get()
    assert (item.stage, item.declared_at, item.return_period) == (CandidateItem.Stage.LISTED, None, Period(2026, 2))


def test_building_twice_yields_the_same_lists_even_after_a_new_screening(org):
    taxpayer = eligible_taxpayer(org["branch_a"])
    screened()
    first = candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    item = CandidateItem.objects.get()
    snapshot = (item.pk, item.refundable_total, item.regime)

    rate(taxpayer, "C", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")  # would now fail
    screened()
    second = candidate_lists_build(actor=None, push_date=FIRST_PUSH)

    assert second.created is False
    assert sorted(lst.pk for lst in second.lists) == sorted(lst.pk for lst in first.lists)
    assert CandidateList.objects.count() == 3  # service + branch A + branch B
    item = CandidateItem.objects.get()
    assert (item.pk, item.refundable_total, item.regime) == snapshot
    assert AuditEvent.objects.filter(verb="candidate_lists_build").count() == 1


def test_the_database_refuses_a_second_list_for_the_same_date_and_branch(org):
    CandidateList.objects.create(
        push_date=FIRST_PUSH, application_period=PERIOD, audience="branch", branch=org["branch_a"]
    )
    CandidateList.objects.create(push_date=FIRST_PUSH, application_period=PERIOD, audience="service")
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateList.objects.create(
            push_date=FIRST_PUSH, application_period=PERIOD, audience="branch", branch=org["branch_a"]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateList.objects.create(push_date=FIRST_PUSH, application_period=PERIOD, audience="service")
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateList.objects.create(
            push_date=FIRST_PUSH, application_period=PERIOD, audience="service", branch=org["branch_a"]
        )


def test_the_month_end_push_marks_earlier_candidates_and_skips_those_done(org):
    kept = eligible_taxpayer(org["branch_a"])
    applied = eligible_taxpayer(org["branch_a"])
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    candidate_items_mark_applied(taxpayer_ids=[applied.pk], application_period=PERIOD)
    newcomer = eligible_taxpayer(org["branch_b"])
    screened(day=MONTH_END_PUSH)

    candidate_lists_build(actor=None, push_date=MONTH_END_PUSH)

    items = {i.taxpayer_id: i for i in CandidateItem.objects.filter(push_date=MONTH_END_PUSH)}
    assert set(items) == {kept.pk, newcomer.pk}  # the one who applied is not pushed again
    assert items[kept.pk].previously_listed is True
    assert items[kept.pk].first_listed_on == FIRST_PUSH
    assert items[newcomer.pk].previously_listed is False
    service = CandidateList.objects.get(push_date=MONTH_END_PUSH, audience="service")
    assert (service.item_count, service.new_count) == (2, 1)


def test_not_a_push_date_and_no_screening_are_refused_in_chinese(org):
    with pytest.raises(NotAPushDate, match=r"不是候选名单推送日.*2026-03-17、2026-03-31"):
        candidate_lists_build(actor=None, push_date=dt.date(2026, 3, 18))
    with pytest.raises(ApplicationError, match="尚无已完成的留抵退税筛查"):
        candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    assert not CandidateList.objects.exists()


def test_every_branch_gets_a_list_even_when_empty(org):
    eligible_taxpayer(org["branch_a"])
    screened()
    candidate_lists_build(actor=None, push_date=FIRST_PUSH)
    empty = CandidateList.objects.get(push_date=FIRST_PUSH, branch=org["branch_b"])
    assert empty.item_count == 0
    assert Branch.objects.filter(kind="branch").count() == CandidateList.objects.filter(audience="branch").count()


def test_upper_level_taxpayer_shows_its_failed_conditions(org):
    from refund.models import UpperListEntry, UpperListImport

    failing = ineligible_taxpayer(org["branch_b"])
    both = eligible_taxpayer(org["branch_a"])
    run = screened()
    upload = UpperListImport.objects.create(
        push_date=FIRST_PUSH, source_name="市税务局", original_name="x.xlsx", sha256="x"
    )
    UpperListEntry.objects.create(upload=upload, row=2, taxpayer=failing, amount=Decimal("880000.00"), note="市局测算")
    UpperListEntry.objects.create(upload=upload, row=3, taxpayer=both)

    candidate_lists_build(actor=None, push_date=FIRST_PUSH)

    upper = CandidateItem.objects.get(taxpayer=failing)
    assert upper.source == CandidateItem.Source.UPPER
    assert upper.eligible is False
    assert "credit_a_or_b" in upper.failed_conditions
    assert upper.failed_mask & CONDITION_BITS["credit_a_or_b"]
    assert upper.failed_mask == run.results.get(taxpayer=failing).failed_mask
    assert (upper.upper_amount, upper.upper_note, upper.upper_source) == (Decimal("880000.00"), "市局测算", "市税务局")
    assert CandidateItem.objects.get(taxpayer=both).source == CandidateItem.Source.BOTH
    assert CandidateList.objects.get(audience="service", push_date=FIRST_PUSH).upper_count == 2


@pytest.mark.django_db(transaction=True)
def test_two_builds_racing_yield_one_set_of_lists(org, monkeypatch):
    """Both builds pass the "already built?" check, then meet the unique constraints: one wins, the other
    returns the winner's lists."""
    import threading

    from django.db import connection

    from refund.candidates import building

    eligible_taxpayer(org["branch_a"])
    run = screened()
    barrier = threading.Barrier(2, timeout=20)
    real = building._upper_entries

    def both_inside_their_transaction(push_date):
        barrier.wait()
        return real(push_date)

    monkeypatch.setattr(building, "_upper_entries", both_inside_their_transaction)
    outcomes, errors = [], []

    def build():
        try:
            outcomes.append(candidate_lists_build(actor=None, push_date=FIRST_PUSH, run=run))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sorted(o.created for o in outcomes) == [False, True]
    assert CandidateList.objects.filter(push_date=FIRST_PUSH).count() == 3
    assert CandidateItem.objects.count() == 1
    assert sorted(lst.pk for lst in outcomes[0].lists) == sorted(lst.pk for lst in outcomes[1].lists)
