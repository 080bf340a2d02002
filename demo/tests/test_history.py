"""The demo history: consistent rows on a small seeded county, written through the apps' bulk paths, nothing added
by a second run, the same history for the same seed."""

import datetime as dt
import io
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import AuditEvent
from core.periods import Period
from demo import county as demo_county
from demo.seeding import seed_demo_county
from ledger.models import LedgerEntry, LedgerRun, TreasuryPayment
from ledger.services import return_period_of
from ledger.statistics import format_working_days, median_working_days_to_payment
from refund.applications.workflow import ALLOWED_FROM, TARGET
from refund.models import (
    OPEN_APPLICATION_STATES,
    ApplicationRiskHit,
    ApplicationTransition,
    CoachingRecord,
    RefundApplication,
)
from taxpayers.calendar import add_working_days, is_working_day
from taxpayers.models import Taxpayer, VatReturn

TODAY = dt.date(2025, 6, 18)  # a Wednesday: last month 2025-05 filed, open work of May and June
SHANGHAI = ZoneInfo("Asia/Shanghai")
State = RefundApplication.State
ACTION_TO = {target: action for action, target in TARGET.items() if action not in ("adjust", "stop")}


def run_history(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_history", f"--today={TODAY.isoformat()}", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def county(db):
    seed_demo_county(demo_county.DemoParams(taxpayers=240, seed=7, today=TODAY))


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(SHANGHAI)


def assert_office_hours_on_a_working_day(moment: dt.datetime) -> None:
    at = local(moment)
    assert is_working_day(at.date()), at
    assert dt.time(8, 30) <= at.time() <= dt.time(17, 31), at


@pytest.mark.django_db
def test_demo_history_writes_a_consistent_history_and_a_second_run_adds_nothing(county):
    output = run_history()
    now = dt.datetime.combine(TODAY, dt.time(0, 0), SHANGHAI)

    # One approved application was then paid in part through the payment service (now, not in the history).
    part = RefundApplication.objects.get(state=State.PARTLY_PAID)
    part_entry = LedgerEntry.objects.get(application=part)
    assert part_entry.amount == part.paid_amount == (part.confirmed_amount * Decimal("0.6")).quantize(Decimal("0.01"))
    assert part_entry.run is None and part.unpaid_amount > 0
    assert f"部分退库演示：{part.taxpayer.name} 已退库 {part_entry.amount:,} 元" in output

    applications = list(RefundApplication.objects.select_related("taxpayer").exclude(pk=part.pk).order_by("id"))
    states = {app.state for app in applications}
    assert State.PAID in states and State.REJECTED in states
    assert states & set(OPEN_APPLICATION_STATES), "the queue has open work"
    assert min(app.application_period for app in applications) >= Period(2022, 1)
    assert max(app.application_period for app in applications) <= Period(2025, 6)

    transitions = {}
    for row in ApplicationTransition.objects.order_by("created_at", "id"):
        transitions.setdefault(row.application_id, []).append(row)
    for app in applications:
        chain = transitions[app.pk]
        # From received to the state the application is in, every step one the workflow allows.
        assert (chain[0].from_state, chain[0].to_state) == ("", State.RECEIVED)
        for before, step in pairwise(chain):
            assert step.from_state == before.to_state
            assert step.from_state in ALLOWED_FROM[ACTION_TO[step.to_state]], (app.pk, step)
            assert step.created_at > before.created_at
        assert chain[-1].to_state == app.state
        assert app.state_changed_at == chain[-1].created_at
        for step in chain:
            assert_office_hours_on_a_working_day(step.created_at)
            assert step.created_at < now
            assert step.actor is not None
        assert local(app.received_at).date() == app.received_on == local(chain[0].created_at).date()
        assert app.due_on == add_working_days(app.received_on, 10)
        assert app.branch_id == app.taxpayer.branch_id
        assert app.application_period == Period.of(app.received_on)
        assert app.computed_eligible is (app.state != State.REJECTED)
        assert app.result_snapshot["application_period"] == str(app.application_period)  # the snapshot is text

        by_state = {step.to_state: step for step in chain}
        if app.state in (State.APPROVED, State.PAID):
            assert app.approved_at == by_state[State.APPROVED].created_at
            assert app.approved_by == by_state[State.APPROVED].actor
            assert app.confirmed_at == by_state[State.REVIEWING].created_at
            assert app.confirmed_incremental + app.confirmed_stock == app.confirmed_amount
        if app.state == State.REJECTED:
            assert app.decision_reason.startswith("不符合留抵退税条件：")
            assert app.decision_reason == by_state[State.REJECTED].reason
            assert app.approved_at is None and app.paid_on is None
        if app.state in OPEN_APPLICATION_STATES:
            assert app.paid_on is None and app.approved_at is None

    # Open work in the current month and last month, some of it past the 10-working-day clock.
    open_apps = [app for app in applications if app.state in OPEN_APPLICATION_STATES]
    assert {app.application_period for app in open_apps} == {Period(2025, 5), Period(2025, 6)}
    assert any(app.due_on < TODAY for app in open_apps), "a few overdue"

    paid = [app for app in applications if app.state == State.PAID]
    assert len(paid) >= 10
    history = LedgerEntry.objects.exclude(application=part).select_related("payment", "run")
    entries = {entry.application_id: entry for entry in history}
    assert set(entries) == {app.pk for app in paid}
    assert TreasuryPayment.objects.exclude(application=part).count() == len(paid)
    returns = {
        (row.taxpayer_id, row.period): row.credit_refunded
        for row in VatReturn.objects.filter(period__gte="2022-01", period__lte="2025-06")
    }
    checks = set()
    for app in paid:
        entry, payment = entries[app.pk], entries[app.pk].payment
        assert payment.application_id == app.pk
        assert payment.amount == app.paid_amount == entry.amount == app.confirmed_amount
        assert entry.incremental_amount + entry.stock_amount == entry.amount
        assert (entry.incremental_amount, entry.stock_amount) == (app.paid_incremental, app.paid_stock)
        assert entry.paid_on == payment.paid_on == app.paid_on < TODAY
        assert is_working_day(app.paid_on)
        assert app.paid_on == local(transitions[app.pk][-1].created_at).date()
        assert payment.voucher_number in transitions[app.pk][-1].reason
        assert (entry.identifier, entry.name, entry.branch_id) == (
            app.taxpayer.identifier,
            app.taxpayer.name,
            app.taxpayer.branch_id,
        )
        assert (entry.refund_kind, entry.regime, entry.application_period) == (
            app.kind,
            app.regime,
            app.application_period,
        )
        if app.kind == RefundApplication.Kind.INCREMENTAL:
            assert entry.stock_amount == 0
        # The ledger's own check: the return of the month of payment must show the refund.
        paid_in = return_period_of(entry.paid_on, app.taxpayer.filing_frequency)
        shown = returns.get((app.taxpayer_id, paid_in))
        checks.add(entry.credit_check)
        if entry.credit_check == LedgerEntry.CreditCheck.REDUCED:
            assert shown >= entry.amount  # the return shows the credit reduced by the refund
            assert entry.credit_check_period == paid_in
        elif entry.credit_check == LedgerEntry.CreditCheck.NOT_REDUCED:
            assert not shown or shown < entry.amount
        else:
            assert shown is None  # that return is not in yet
    assert LedgerEntry.CreditCheck.REDUCED in checks
    assert LedgerEntry.CreditCheck.NOT_REDUCED in checks  # the refunds paid though the return shows none

    # One succeeded morning registration per payment day, the next working day at 08:30.
    runs = {run.day: run for run in LedgerRun.objects.all()}
    assert set(runs) == {app.paid_on for app in paid if add_working_days(app.paid_on, 1) < TODAY}
    per_day = dict(history.values_list("paid_on").annotate(n=Count("id")))
    for day, run in runs.items():
        assert run.status == LedgerRun.Status.SUCCEEDED
        assert local(run.started_at).date() == add_working_days(day, 1)
        assert dt.time(8, 30) <= local(run.started_at).time() < dt.time(8, 32)
        assert run.finished_at > run.started_at
        assert run.entry_count == per_day[day] == len(run.entries.all())
        assert run.total_amount == sum(entry.amount for entry in run.entries.all())

    hits = list(ApplicationRiskHit.objects.select_related("application"))
    assert hits
    for hit in hits:
        returned = [s for s in transitions[hit.application_id] if s.to_state == State.RETURNED]
        assert returned and returned[0].evidence["risk_hit"] == hit.code
        assert (hit.resolved_at is not None) == (hit.application.state != State.RETURNED)
    coachings = list(CoachingRecord.objects.select_related("application"))
    assert coachings
    for record in coachings:
        assert is_working_day(record.coached_on)
        assert record.coached_on <= record.application.received_on
        assert record.taxpayer_id == record.application.taxpayer_id

    median = median_working_days_to_payment(RefundApplication.objects.all())
    assert median is not None and 1 <= median <= 10
    assert f"中位办理时长：{format_working_days(median)} 个工作日" in output
    assert AuditEvent.objects.filter(verb="demo_history_seeded").count() == 1
    # Written through the apps' bulk paths for history, each recording what it wrote.
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"refund_applications_import", "refund_coaching_add", "ledger_payments_backfill"} <= verbs
    assert {"ledger_days_backfill", "ledger_credit_check"} <= verbs

    counts = [model.objects.count() for model in (RefundApplication, ApplicationTransition, LedgerEntry, LedgerRun)]
    again = run_history()
    assert "跳过生成演示历史" in again
    assert [model.objects.count() for model in (RefundApplication, ApplicationTransition, LedgerEntry, LedgerRun)] == (
        counts
    )
    assert AuditEvent.objects.filter(verb="demo_history_seeded").count() == 1


@pytest.mark.django_db
def test_demo_history_is_deterministic_for_a_seed(county):
    run_history("--seed=3")
    first = list(
        RefundApplication.objects.order_by("document_number").values_list(
            "document_number", "taxpayer__identifier", "application_period", "state", "received_on", "paid_amount"
        )
    )
    for model in (LedgerEntry, TreasuryPayment, LedgerRun, CoachingRecord, RefundApplication):
        model.objects.all().delete()
    run_history("--seed=3")
    second = list(
        RefundApplication.objects.order_by("document_number").values_list(
            "document_number", "taxpayer__identifier", "application_period", "state", "received_on", "paid_amount"
        )
    )
    assert first == second and first


@pytest.mark.django_db
def test_demo_history_leaves_a_database_with_applications_alone(county):
    taxpayer = Taxpayer.objects.first()
    RefundApplication.objects.create(
        taxpayer=taxpayer,
        branch=taxpayer.branch,
        application_period="2025-06",
        kind=RefundApplication.Kind.INCREMENTAL,
        received_on=dt.date(2025, 6, 3),
        due_on=dt.date(2025, 6, 17),
        claimed_amount=Decimal("100.00"),
    )
    assert "跳过生成演示历史" in run_history()
    assert RefundApplication.objects.count() == 1
    assert not LedgerEntry.objects.exists()
