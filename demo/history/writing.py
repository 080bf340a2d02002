"""Writing the planned history through the apps' bulk paths for past records.

The applications with their transitions and findings (``refund.applications.bulk.applications_backfill``), the coaching
records (``refund.applications.bulk.coaching_records_backfill``), the treasury payments with their ledger entries
(``ledger.bulk.payments_backfill``, which marks the applications paid through ``refund.applications.bulk``), the morning
registrations (``ledger.bulk.ledger_days_backfill``), then the ledger's own credit reduction check
(``ledger.services.ledger_check_credit_reduction``). Each path checks the rows as its services would.

The timestamps are the history's: office hours on working days (``plans.Clock``), drawn from the planner's
generator in a fixed order (the applications, then the coaching, then the registrations).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.bulk import PastPayment, PastRegistration, ledger_days_backfill, payments_backfill
from ledger.models import TreasuryPayment
from ledger.services import ledger_check_credit_reduction
from refund.applications.bulk import (
    Confirmation,
    Finding,
    PastApplication,
    PastCoaching,
    Step,
    applications_backfill,
    coaching_records_backfill,
)
from refund.applications.workflow import TARGET
from refund.models import RefundApplication
from taxpayers.calendar import add_working_days

from .planner import Planner
from .plans import (
    BILL_NOTE,
    COACHING_NOTES,
    COACHING_WEIGHTS,
    DOCUMENT_PREFIX,
    HIT_RESOLUTION,
    SHANGHAI,
    VOUCHER_PREFIX,
    Clock,
    Kind,
    Plan,
    State,
    kind_of,
    split,
)

# The demo's past moves by the state they lead to (the risk outcomes 调整退税额 and 终止退税 are not in its history).
ACTION_TO = {
    target: action for action, target in TARGET.items() if action not in ("mark_partly_paid", "adjust", "stop")
}
SOURCES = (RefundApplication.Source.IMPORT,) * 8 + (RefundApplication.Source.API, RefundApplication.Source.MANUAL)


@dataclass
class HistoryResult:
    applications: int = 0
    transitions: int = 0
    risk_hits: int = 0
    coachings: int = 0
    payments: int = 0
    runs: int = 0
    paid_total: Decimal = Decimal("0")
    by_state: dict = field(default_factory=dict)
    skipped_refunds: int = 0
    median_days: Decimal | None = None
    seconds: float = 0.0


@dataclass
class _Written:
    """A plan on its way to the database: its step times, and the payment of a paid one."""

    plan: Plan
    times: list[dt.datetime]
    past: PastApplication
    voucher: str = ""


def write(planner: Planner, result: HistoryResult) -> None:
    """Write ``planner``'s plans (inside the caller's transaction) and count what was written into ``result``."""
    rng = planner.rng
    plans = sorted(planner.plans, key=lambda p: (p.received_on, p.taxpayer["id"], p.period))
    written = _applications(planner, plans, Clock(rng))
    applications = applications_backfill(applications=[w.past for w in written])
    coachings = coaching_records_backfill(records=_coaching(planner, written, applications), today=planner.today)
    paid = [(w, app) for w, app in zip(written, applications, strict=True) if w.voucher]
    payments_backfill(
        payments=[
            PastPayment(
                application=app, voucher_number=w.voucher, amount=w.plan.paid, paid_on=w.plan.steps[-1].day,
                at=w.times[-1], entered_by=planner.refund_officer, source=TreasuryPayment.Source.IMPORT,
                reason=f"退库凭证号 {w.voucher}",
            )
            for w, app in paid
        ],
        today=planner.today,
    )  # fmt: skip
    runs = ledger_days_backfill(registrations=_registrations(planner, [app for _, app in paid]))
    ledger_check_credit_reduction(taxpayer_ids={app.taxpayer_id for _, app in paid})

    result.applications = len(applications)
    result.transitions = sum(len(plan.steps) for plan in plans)
    result.risk_hits = sum(plan.hit is not None for plan in plans)
    result.coachings = len(coachings)
    result.payments = len(paid)
    result.runs = len(runs)
    result.paid_total = sum((app.paid_amount for _, app in paid), Decimal("0"))
    by_state: dict[str, int] = defaultdict(int)
    for app in applications:
        by_state[app.state] += 1
    result.by_state = dict(by_state)


def _applications(planner: Planner, plans: list[Plan], clock: Clock) -> list[_Written]:
    """Each plan as ``refund.applications.bulk`` takes it: document numbers by year of receipt, vouchers by day
    of payment."""
    serials: dict[int, int] = defaultdict(int)
    vouchers: dict[dt.date, int] = defaultdict(int)
    written = []
    for plan in plans:
        times: list[dt.datetime] = []
        for step in plan.steps:
            times.append(clock.at(step.day, times[-1] if times else None))
        serials[plan.received_on.year] += 1
        number = f"{DOCUMENT_PREFIX}〔{plan.received_on.year}〕{serials[plan.received_on.year]:05d}号"
        past = _past(planner, plan, times, number, source=planner.rng.choice(SOURCES))
        item = _Written(plan, times, past)
        if plan.steps[-1].to_state == State.PAID:
            day = plan.steps[-1].day
            vouchers[day] += 1
            item.voucher = f"{VOUCHER_PREFIX}{day:%Y%m%d}{vouchers[day]:03d}"
        written.append(item)
    return written


def _past(planner: Planner, plan: Plan, times: list[dt.datetime], number: str, *, source: str) -> PastApplication:
    decision, taxpayer = plan.decision, plan.taxpayer
    workflow = [(step, at) for step, at in zip(plan.steps[1:], times[1:], strict=True) if step.to_state != State.PAID]
    past = PastApplication(
        taxpayer_id=taxpayer["id"],
        application_period=plan.period,
        kind=kind_of(decision) if decision.eligible else Kind.INCREMENTAL,
        source=source,
        document_number=number,
        received_on=plan.received_on,
        received_at=times[0],
        received_by=plan.steps[0].actor,
        arrival_reason=plan.steps[0].reason,
        claimed_amount=plan.claimed,
        credit_level_at_submission=plan.level,
        case=plan.case,
        decision=decision,
        computed_at=times[0] + dt.timedelta(minutes=1),
        risk_checked_at=times[0] + dt.timedelta(minutes=2),
        steps=[Step(ACTION_TO[s.to_state], at, s.actor, s.reason, s.evidence or {}) for s, at in workflow],
        assigned_to=planner.officer_of(taxpayer),
    )
    for step, at in workflow:
        if step.to_state == State.REVIEWING:  # 一键确认: confirmed when submitted for review
            amount = plan.paid if plan.paid is not None else plan.claimed
            incremental, stock = split(amount, decision)
            past.confirmation = Confirmation(amount, incremental, stock, plan.correction)
        elif step.to_state == State.APPROVED:
            past.risk_checked_at = at - dt.timedelta(minutes=5)  # the approval gate, just before approving
    if plan.hit:
        code, title, evidence = plan.hit
        past.finding = Finding(code, title, evidence, times[0] + dt.timedelta(minutes=2), HIT_RESOLUTION)
    return past


def _coaching(planner: Planner, written: list[_Written], applications: list) -> list[PastCoaching]:
    """一对一辅导 of the coached applications, on a working day up to four before receipt."""
    rng, records = planner.rng, []
    for item, app in zip(written, applications, strict=True):
        plan = item.plan
        if not plan.coached:
            continue
        n = planner.work.index[plan.received_on]
        day = planner.day(max(0, n - rng.randint(0, 4)))
        topic = rng.choices(list(COACHING_NOTES), weights=COACHING_WEIGHTS)[0]
        at = dt.datetime.combine(day, dt.time(9, 0), SHANGHAI) + dt.timedelta(minutes=rng.randrange(420))
        records.append(
            PastCoaching(
                plan.taxpayer["id"], app, topic, COACHING_NOTES[topic], day, planner.officer_of(plan.taxpayer), at
            )
        )
    return records


def _registrations(planner: Planner, paid: list[RefundApplication]) -> list[PastRegistration]:
    """One morning registration per payment day, the next working day at 08:30 — once it has come."""
    registrations = []
    for day in sorted({app.paid_on for app in paid}):
        started = dt.datetime.combine(add_working_days(day, 1, estimate=True), dt.time(8, 30), SHANGHAI)
        started += dt.timedelta(seconds=planner.rng.randrange(5, 40))
        if started >= planner.now:
            continue
        finished = started + dt.timedelta(seconds=planner.rng.randrange(2, 30))
        registrations.append(PastRegistration(day, started, finished, BILL_NOTE))
    return registrations
