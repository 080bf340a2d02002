"""Demo history (演示历史): the demo county's refund applications, payments and ledger since 2022-01.

Why: on the first start of ``make demo`` the queue, the application pages and the ledger should already
show a county's working life — four years of refunds, a few returned and rejected cases, and open work in
the current month — instead of empty tables.

Where the history comes from (deterministic for a given ``seed`` and ``today``):

- **Paid refunds follow the demo returns.** Every return since 2022-01 whose 本期留抵退税额
  (``credit_refunded``) is positive is a refund the taxpayer received in that month: it becomes an
  application for that period, received after the tax period's return was filed and paid within the
  month, for exactly the refunded amount. The return therefore shows the credit reduced by the refund
  (``LedgerEntry.credit_check`` = reduced, period = the application period).
- **The real rules decide and price each application**: ``refund.case_builder.taxpayer_case_json`` and
  ``refund.services.decide`` at the receipt date give the regime, size, computed figures (stored as
  ``computed_*`` with the inputs and result snapshots) and the incremental/stock split, which the paid
  amount follows. The demo stores only each taxpayer's latest credit rating; where the rules fail a paid
  refund on the rating alone, the rating at submission is taken as B (ratings change yearly). A refund
  the rules reject for any other reason (or cannot assess) gets no application and is counted as skipped.
- A claim above the rules' figure is returned (回退) by the arrival risk gate with the mismatch as
  evidence, verified by the branch officer and then approved; a few others are returned for an upstream
  invoice check. Rejections (不予退税) come from taxpayers with a large credit and no refund in their
  return whom the rules find ineligible — the reason is the failed conditions' own text. A few taxpayers
  the rules find eligible but whose next return shows no refund are paid anyway: their ledger entries are
  flagged ``not_reduced`` (the later return does not show the credit reduced by the refund).
- **Open work**: applications of last month and of the current month from taxpayers the rules find
  eligible and whose returns show no refund yet, left received / investigating / reviewing / returned,
  some received more than 10 working days ago (overdue).

Every event lies on a working day (``taxpayers.calendar``: Chinese holidays and make-up workdays) in
office hours, Asia/Shanghai, before ``now``; transitions chain from received to the final state with the
demo officers as actors (the taxpayer's branch officer investigates and confirms, the refund officer
returns, rejects, approves and enters the payment). Treasury payments carry voucher numbers, ledger
entries copy the taxpayer's fields, one succeeded ``LedgerRun`` per payment day registers them the next
working morning at 08:30 (no bill SMS is sent for history). Rows are written with ``bulk_create``; their
timestamps are the history's, not the seeding time's (see ``_history_timestamps``).

Idempotent: nothing is written when any refund application exists.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import User
from accounts.roles import RoleCode
from core.money import format_yuan
from core.periods import Period
from refund.models import ApplicationRiskHit, ApplicationTransition, CoachingRecord, RefundApplication
from refund.screening.case_builder import tax_period_of, taxpayer_case_json
from refund.screening.decisions import decide
from taxpayers import demo
from taxpayers.calendar import add_working_days, is_working_day
from taxpayers.models import Taxpayer, VatReturn

from .models import LedgerEntry, LedgerRun, TreasuryPayment
from .statistics import median_working_days_to_payment

FIRST_PERIOD = Period(2022, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
SLA_WORKING_DAYS = 10  # a risk-free application is settled within 10 working days of receipt
DOCUMENT_PREFIX = "示退受"  # 受理文书号 of the demo history: 示退受〔2023〕00042号
VOUCHER_PREFIX = "示库"  # 退库凭证号 of the demo history: 示库20230512003
REJECT_MIN_CREDIT = Decimal("200000")  # rejection and open-work candidates carry at least this credit
REJECT_TRIES_PER_MONTH = (0, 1, 1, 2, 3)
NOT_REDUCED_EVERY = 8  # about one eligible-but-unrefunded taxpayer paid every 8 months
OPEN_LAST_MONTH = 14  # open applications of last month's period (the overdue ones among them)
OPEN_THIS_MONTH = 8
BILL_NOTE = "演示历史数据，未发送账单短信"

State = RefundApplication.State
Kind = RefundApplication.Kind

_COACHING_NOTES = {
    CoachingRecord.Topic.FILING: "辅导纳税人核对增值税申报表附列资料（二）进项税额明细，确认期末留抵税额。",
    CoachingRecord.Topic.KIND: "讲解增量留抵与存量留抵的计算口径，说明本次适用的退税类型。",
    CoachingRecord.Topic.INPUT_RATIO: "辅导计算进项构成比例，核对专票、海关缴款书等抵扣凭证分类。",
    CoachingRecord.Topic.AMOUNT: "按规则测算可退税额，与纳税人财务核对增量、存量及退税比例。",
    CoachingRecord.Topic.FORM: "一对一辅导填写《退（抵）税申请表》及留抵退税申请相关栏次。",
}
_COACHING_WEIGHTS = (2, 2, 3, 3, 4)
_UPSTREAM_HIT = ("upstream_invoice", "进项发票涉及异常凭证，需核实", "上游开票企业被列为异常凭证提供方")


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
class _Step:
    to_state: str
    day: dt.date
    actor: User
    reason: str = ""
    evidence: dict = field(default_factory=dict)


@dataclass
class _Plan:
    """One application as it will be written: the row's figures and its transitions in order."""

    taxpayer: dict
    period: Period
    received_on: dt.date
    claimed: Decimal
    level: str
    case: dict
    decision: dict
    steps: list[_Step] = field(default_factory=list)
    paid: Decimal | None = None  # set for paid applications
    credit_check: str = LedgerEntry.CreditCheck.PENDING
    credit_note: str = ""
    correction: str = ""
    hit: tuple[str, str, dict] | None = None  # (code, title, evidence) of an arrival risk hit
    hit_resolved: bool = False
    coached: bool = False


class _Clock:
    """Office-hour timestamps on working days, increasing within an application."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def at(self, day: dt.date, after: dt.datetime | None = None) -> dt.datetime:
        start = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
        if after is not None and after.astimezone(SHANGHAI).date() == day:
            start = max(start, after + dt.timedelta(minutes=3))
        end = dt.datetime.combine(day, dt.time(17, 30), SHANGHAI)
        if start >= end:
            return start + dt.timedelta(minutes=1)
        return start + dt.timedelta(seconds=self.rng.randrange(int((end - start).total_seconds() * 0.6) + 1))


class _WorkingDays:
    """The working days from ``first`` to the day before ``today``, indexable."""

    def __init__(self, first: dt.date, today: dt.date) -> None:
        self.days: list[dt.date] = []
        day = first
        while day < today:
            if is_working_day(day, estimate=True):
                self.days.append(day)
            day += dt.timedelta(days=1)
        self.index = {day: n for n, day in enumerate(self.days)}

    def on_or_after(self, day: dt.date) -> int | None:
        n = bisect.bisect_left(self.days, day)
        return n if n < len(self.days) else None

    def of_month(self, period: Period) -> list[int]:
        return [n for n, day in enumerate(self.days) if day.year == period.year and day.month == period.month]


# --- officers ---------------------------------------------------------------------------------------------


def _officers() -> tuple[User, dict[int, User]]:
    """The demo refund officer and one branch officer per branch (the refund officer where none)."""
    refunds = User.objects.filter(is_active=True, groups__name=RoleCode.REFUND_OFFICER.value)
    refund = refunds.filter(username="refund").first() or refunds.order_by("username").first()
    branch_officers: dict[int, User] = {}
    for user in User.objects.filter(is_active=True, groups__name=RoleCode.BRANCH_OFFICER.value).order_by("username"):
        if user.branch_id is not None:
            branch_officers.setdefault(user.branch_id, user)
    return refund, branch_officers


# --- the rules ------------------------------------------------------------------------------------------


def _assess(taxpayer_id: int, period: Period, on: dt.date, level: str | None = None) -> tuple[dict, dict]:
    case = taxpayer_case_json(
        taxpayer_id=taxpayer_id, application_period=period, application_date=on, credit_level=level
    )
    return case, decide(case)


def _failed(decision: dict) -> list[dict]:
    return [c for c in decision.get("conditions", []) if not c["passed"]]


def _money(value) -> Decimal:
    return Decimal(value or "0")


def _split(amount: Decimal, decision: dict) -> tuple[Decimal, Decimal]:
    """(incremental, stock) of ``amount`` in the proportion of the rules' figures."""
    total = _money(decision.get("refundable_total"))
    stock_part = _money(decision.get("refundable_stock"))
    if total <= 0 or stock_part <= 0:
        return amount, Decimal("0.00")
    stock = min(amount, (amount * stock_part / total).quantize(CENT, ROUND_HALF_UP))
    return amount - stock, stock


def _kind(decision: dict) -> str:
    incremental = _money(decision.get("refundable_incremental")) > 0
    stock = _money(decision.get("refundable_stock")) > 0
    if incremental and stock:
        return Kind.BOTH
    return Kind.STOCK if stock else Kind.INCREMENTAL


# --- the plan ---------------------------------------------------------------------------------------------


class _Planner:
    def __init__(self, *, today: dt.date, seed: int, now: dt.datetime) -> None:
        self.today = today
        self.rng = random.Random(seed)
        self.now = now
        self.current = Period.of(today)
        self.last = self.current.minus(1)
        self.work = _WorkingDays(dt.date(FIRST_PERIOD.year - 1, 12, 1), today)
        self.refund_officer, self.branch_officers = _officers()
        self.plans: list[_Plan] = []
        self.used: set[tuple[int, Period]] = set()
        self.open_taxpayers: set[int] = set()
        self.skipped = 0

    def officer_of(self, taxpayer: dict) -> User:
        return self.branch_officers.get(taxpayer["branch_id"], self.refund_officer)

    def day(self, n: int) -> dt.date:
        return self.work.days[min(n, len(self.work.days) - 1)]

    # -- receipt ---------------------------------------------------------------------------------

    def receipt_index(self, taxpayer: dict, period: Period, filed: dict, span: int) -> int | None:
        """A working day of ``period`` after the tax period's return was filed, leaving ``span`` working
        days to finish inside the month when possible."""
        month = self.work.of_month(period)
        if not month:
            return None
        tax_period = tax_period_of(period, taxpayer["filing_frequency"])
        filed_on = filed.get((taxpayer["id"], tax_period)) or period.first_day
        first = self.work.on_or_after(max(filed_on, period.first_day))
        if first is None or first > month[-1]:
            return None
        latest = max(first, month[-1] - span)
        return min(first + self.rng.randint(0, 4), latest)

    # -- the kinds of history ----------------------------------------------------------------------

    def paid(self, taxpayer: dict, period: Period, refunded: Decimal, filed: dict, *, reduced: bool) -> bool:
        rng = self.rng
        span = 7
        n = self.receipt_index(taxpayer, period, filed, span)
        if n is None:
            return False
        received = self.day(n)
        case, decision = _assess(taxpayer["id"], period, received)
        level = taxpayer["credit_level"] or "M"
        if (
            "error" not in decision
            and not decision["eligible"]
            and [c["code"] for c in _failed(decision)] == ["credit_a_or_b"]
        ):
            level = "B"  # the rating of that year (the demo keeps only the latest rating)
            case, decision = _assess(taxpayer["id"], period, received, "B")
        if "error" in decision or not decision["eligible"]:
            return False
        computed = _money(decision["refundable_total"])
        claimed = refunded if reduced else computed
        if claimed <= 0:
            return False
        plan = _Plan(taxpayer, period, received, claimed, level, case, decision, paid=claimed)
        officer = self.officer_of(taxpayer)
        plan.coached = rng.random() < 0.3
        steps = [_Step(State.RECEIVED, received, self.refund_officer, "核心征管系统受理")]
        k = n
        returned = claimed > computed or rng.random() < 0.06
        if returned:
            if claimed > computed:
                plan.hit = (
                    "recomputation_mismatch",
                    "申请退税额与规则计算可退税额不一致",
                    {"claimed": str(claimed), "computed": str(computed), "regime": decision["regime"]},
                )
            else:
                code, title, note = _UPSTREAM_HIT
                plan.hit = (code, title, {"note": note})
            plan.hit_resolved = True
            steps.append(
                _Step(
                    State.RETURNED,
                    self.day(k),
                    self.refund_officer,
                    f"受理扫描发现疑点：{plan.hit[1]}",
                    {"risk_hit": plan.hit[0], **plan.hit[2]},
                )
            )
            k += rng.randint(1, 3)
            steps.append(_Step(State.INVESTIGATING, self.day(k), officer, "纳税人补充说明及资料后重新核实"))
            k += rng.randint(1, 2)
            plan.correction = (
                f"经核实进项构成比例分类口径，按申请退税额确认（规则计算可退税额 {format_yuan(computed)} 元）"
                if claimed != computed
                else ""
            )
            steps.append(_Step(State.REVIEWING, self.day(k), officer, "疑点已核实排除，确认退税额并提交审核"))
        else:
            if claimed != computed:
                plan.correction = f"按纳税人申请退税额确认（规则计算可退税额 {format_yuan(computed)} 元）"
            if rng.random() < 0.6:
                k += rng.randint(0, 1)
                steps.append(_Step(State.INVESTIGATING, self.day(k), officer, "前置调查"))
                k += rng.randint(0, 1)
            else:
                k += rng.randint(0, 1)
            steps.append(_Step(State.REVIEWING, self.day(k), officer, "调查核实无疑点，确认退税额并提交审核"))
        k += rng.randint(1, 2)
        steps.append(_Step(State.APPROVED, self.day(k), self.refund_officer, "审批通过"))
        k += rng.randint(1, 2)
        steps.append(_Step(State.PAID, self.day(k), self.refund_officer, ""))  # voucher number set on writing
        if steps[-1].day >= self.today:
            return False
        plan.steps = steps
        if reduced:
            plan.credit_check = LedgerEntry.CreditCheck.REDUCED
            plan.credit_note = f"{period}所属期申报表“本期留抵退税额” {format_yuan(refunded)} 元，与退税额一致"
        else:
            plan.credit_check = LedgerEntry.CreditCheck.NOT_REDUCED
            plan.credit_note = f"{period}所属期申报表未反映本次退税（本期留抵退税额 0.00 元），期末留抵未核减"
        self.add(plan)
        return True

    def rejected(self, taxpayer: dict, period: Period, credit: Decimal, filed: dict) -> bool:
        rng = self.rng
        n = self.receipt_index(taxpayer, period, filed, 5)
        if n is None:
            return False
        received = self.day(n)
        case, decision = _assess(taxpayer["id"], period, received)
        if "error" in decision or decision["eligible"]:
            return False
        failed = _failed(decision)
        reason = "不符合留抵退税条件：" + "；".join(c["detail"] for c in failed)
        claimed = (credit * Decimal(rng.uniform(0.4, 0.9))).quantize(CENT, ROUND_HALF_UP)
        plan = _Plan(taxpayer, period, received, claimed, taxpayer["credit_level"] or "M", case, decision)
        officer = self.officer_of(taxpayer)
        steps = [_Step(State.RECEIVED, received, self.refund_officer, "核心征管系统受理")]
        k = n + rng.randint(0, 1)
        steps.append(_Step(State.INVESTIGATING, self.day(k), officer, "前置调查"))
        k += rng.randint(1, 3)
        steps.append(
            _Step(
                State.REJECTED,
                self.day(k),
                self.refund_officer,
                reason[:500],
                {"failed_conditions": [c["code"] for c in failed]},
            )
        )
        if steps[-1].day >= self.today:
            return False
        plan.steps = steps
        plan.coached = rng.random() < 0.5
        self.add(plan)
        return True

    def open(self, taxpayer: dict, period: Period, filed: dict, received_index: int) -> bool:
        rng = self.rng
        received = self.day(received_index)
        case, decision = _assess(taxpayer["id"], period, received)
        if "error" in decision or not decision["eligible"]:
            return False
        computed = _money(decision["refundable_total"])
        plan = _Plan(taxpayer, period, received, computed, taxpayer["credit_level"] or "M", case, decision)
        officer = self.officer_of(taxpayer)
        steps = [_Step(State.RECEIVED, received, self.refund_officer, "核心征管系统受理")]
        last = len(self.work.days) - 1
        k = received_index
        stage = rng.choices(
            ("received", "investigating", "reviewing", "approved", "returned"), weights=(3, 4, 3, 2, 2)
        )[0]
        if stage in ("investigating", "reviewing", "approved"):
            k = min(k + rng.randint(0, 2), last)
            steps.append(_Step(State.INVESTIGATING, self.day(k), officer, "前置调查"))
        if stage in ("reviewing", "approved"):
            k = min(k + rng.randint(1, 3), last)
            steps.append(_Step(State.REVIEWING, self.day(k), officer, "调查核实无疑点，确认退税额并提交审核"))
        if stage == "approved":  # the treasury has not paid yet: 待退库
            k = min(k + 1, last)
            steps.append(_Step(State.APPROVED, self.day(k), self.refund_officer, "审批通过"))
        if stage == "returned":
            code, title, note = _UPSTREAM_HIT
            plan.hit = (code, title, {"note": note})
            k = min(k + rng.randint(0, 1), last)
            steps.append(
                _Step(
                    State.RETURNED,
                    self.day(k),
                    self.refund_officer,
                    f"受理扫描发现疑点：{title}",
                    {"risk_hit": code, "note": note},
                )
            )
        plan.steps = steps
        plan.coached = rng.random() < 0.4
        self.add(plan)
        return True

    def add(self, plan: _Plan) -> None:
        self.used.add((plan.taxpayer["id"], plan.period))
        self.plans.append(plan)

    # -- the months ------------------------------------------------------------------------------

    def build(self, taxpayers: dict[int, dict]) -> None:
        ids = list(taxpayers)
        first_loaded = FIRST_PERIOD.minus(3)
        returns: dict[Period, list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
        filed: dict[tuple[int, Period], dt.date] = {}
        refunded_in: dict[tuple[int, Period], Decimal] = {}
        rows = VatReturn.objects.filter(taxpayer_id__in=ids, period__gte=first_loaded).values_list(
            "taxpayer_id", "period", "filed_on", "end_credit", "credit_refunded"
        )
        for taxpayer_id, period, filed_on, end_credit, refunded in rows.iterator(chunk_size=5000):
            returns[period].append((taxpayer_id, end_credit, refunded))
            if filed_on:
                filed[(taxpayer_id, period)] = filed_on
            if refunded:
                refunded_in[(taxpayer_id, period)] = refunded

        rng = self.rng
        period = FIRST_PERIOD
        while period <= self.last:
            for taxpayer_id, _, refunded in sorted(returns.get(period, ())):
                if refunded > 0 and not self.paid(taxpayers[taxpayer_id], period, refunded, filed, reduced=True):
                    self.skipped += 1
            # Large credits without a refund this month: rejections, and now and then one paid without the
            # return showing it.
            prior = period.minus(1)
            pool = sorted(
                taxpayer_id
                for taxpayer_id, credit, _ in returns.get(prior, ())
                if credit >= REJECT_MIN_CREDIT
                and (taxpayer_id, period) not in refunded_in
                and taxpayers[taxpayer_id]["filing_frequency"] == Taxpayer.FilingFrequency.MONTHLY
            )
            credits = {taxpayer_id: credit for taxpayer_id, credit, _ in returns.get(prior, ())}
            if period < self.last:
                rng.shuffle(pool)
                for taxpayer_id in pool[: rng.choice(REJECT_TRIES_PER_MONTH)]:
                    self.rejected(taxpayers[taxpayer_id], period, credits[taxpayer_id], filed)
                if pool and rng.randrange(NOT_REDUCED_EVERY) == 0:
                    candidate = pool[-1]
                    if (candidate, period) not in self.used:
                        self.paid(taxpayers[candidate], period, Decimal("0"), filed, reduced=False)
            else:
                self.open_work(taxpayers, period, pool, filed, OPEN_LAST_MONTH)
            period = period.plus(1)
        credits_now = sorted(
            taxpayer_id
            for taxpayer_id, credit, _ in returns.get(str(self.last), ())
            if credit >= REJECT_MIN_CREDIT
            and taxpayers[taxpayer_id]["filing_frequency"] == Taxpayer.FilingFrequency.MONTHLY
        )
        self.open_work(taxpayers, self.current, credits_now, filed, OPEN_THIS_MONTH)

    def open_work(self, taxpayers: dict[int, dict], period: Period, pool: list[int], filed: dict, wanted: int) -> None:
        """Open applications of ``period``, received on its working days before today (oldest first)."""
        month = self.work.of_month(period)
        if not month:
            return
        rng = self.rng
        pool = [
            taxpayer_id
            for taxpayer_id in pool
            if (taxpayer_id, period) not in self.used and taxpayer_id not in self.open_taxpayers
        ]
        rng.shuffle(pool)
        made = tries = 0
        for taxpayer_id in pool:
            if made >= wanted or tries >= wanted * 4:
                break
            tries += 1
            taxpayer = taxpayers[taxpayer_id]
            filed_on = filed.get((taxpayer_id, period.minus(1))) or period.first_day
            first = self.work.on_or_after(max(filed_on, period.first_day))
            if first is None or first > month[-1]:
                continue
            if self.open(taxpayer, period, filed, rng.randint(first, month[-1])):
                self.open_taxpayers.add(taxpayer_id)
                made += 1


# --- writing ----------------------------------------------------------------------------------------------


@contextmanager
def _history_timestamps(*models):
    """Let ``bulk_create`` store the history's own creation times.

    ``auto_now``/``auto_now_add`` fields overwrite any given value with the current time on insert. The
    history is written by one management command in its own process, so switching the flags off for its
    duration (and back in ``finally``) touches no other request.
    """
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _write(planner: _Planner, result: HistoryResult) -> None:
    rng = planner.rng
    clock = _Clock(rng)
    plans = sorted(planner.plans, key=lambda p: (p.received_on, p.taxpayer["id"], p.period))
    serials: dict[int, int] = defaultdict(int)
    vouchers: dict[dt.date, int] = defaultdict(int)
    applications, stamps = [], []
    sources = (RefundApplication.Source.IMPORT,) * 8 + (RefundApplication.Source.API, RefundApplication.Source.MANUAL)
    for plan in plans:
        times: list[dt.datetime] = []
        for step in plan.steps:
            times.append(clock.at(step.day, times[-1] if times else None))
        stamps.append(times)
        serials[plan.received_on.year] += 1
        decision, taxpayer = plan.decision, plan.taxpayer
        app = RefundApplication(
            taxpayer_id=taxpayer["id"],
            branch_id=taxpayer["branch_id"],
            application_period=plan.period,
            kind=_kind(decision) if decision.get("eligible") else Kind.INCREMENTAL,
            source=rng.choice(sources),
            document_number=f"{DOCUMENT_PREFIX}〔{plan.received_on.year}〕{serials[plan.received_on.year]:05d}号",
            received_on=plan.received_on,
            received_at=times[0],
            due_on=add_working_days(plan.received_on, SLA_WORKING_DAYS, estimate=True),
            claimed_amount=plan.claimed,
            credit_level_at_submission=plan.level,
            regime=decision.get("regime") or "",
            size=decision.get("size") or taxpayer["size"] or "",
            industry_code=taxpayer["industry_code"] or "",
            computed_eligible=decision.get("eligible"),
            computed_amount=_money(decision.get("refundable_total")),
            computed_incremental=_money(decision.get("refundable_incremental")),
            computed_stock=_money(decision.get("refundable_stock")),
            computed_at=times[0] + dt.timedelta(minutes=1),
            inputs_snapshot=plan.case,
            result_snapshot=decision,
            state=plan.steps[-1].to_state,
            state_changed_at=times[-1],
            created_by=planner.refund_officer,
            updated_at=times[-1],
            assigned_to=planner.officer_of(taxpayer),
            correction_reason=plan.correction[:500],
        )
        if plan.hit:
            app.risk_status = RefundApplication.Risk.CLEAR if plan.hit_resolved else RefundApplication.Risk.HIT
        else:
            app.risk_status = RefundApplication.Risk.CLEAR
        app.risk_checked_at = times[0] + dt.timedelta(minutes=2)
        for step, at in zip(plan.steps, times, strict=True):
            if step.to_state == State.REVIEWING:  # 一键确认: confirmed when submitted for review
                amount = plan.paid if plan.paid is not None else plan.claimed
                app.confirmed_amount = amount
                app.confirmed_incremental, app.confirmed_stock = _split(amount, decision)
                app.confirmed_by, app.confirmed_at = step.actor, at
            elif step.to_state == State.APPROVED:
                app.approved_by, app.approved_at = step.actor, at
                app.risk_checked_at = at - dt.timedelta(minutes=5)
            elif step.to_state == State.PAID:
                app.paid_on = step.day
                app.paid_amount = plan.paid
                app.paid_incremental, app.paid_stock = _split(plan.paid, decision)
                vouchers[step.day] += 1
                step.reason = f"退库凭证号 {VOUCHER_PREFIX}{step.day:%Y%m%d}{vouchers[step.day]:03d}"
            elif step.to_state in (State.RETURNED, State.REJECTED):
                app.decision_reason = step.reason[:500]
        applications.append(app)

    models = (
        RefundApplication,
        ApplicationTransition,
        ApplicationRiskHit,
        CoachingRecord,
        TreasuryPayment,
        LedgerRun,
        LedgerEntry,
    )
    with _history_timestamps(*models):
        RefundApplication.objects.bulk_create(applications, batch_size=500)
        transitions, hits, coachings, payments = [], [], [], []
        for plan, app, times in zip(plans, applications, stamps, strict=True):
            before = ""
            for step, at in zip(plan.steps, times, strict=True):
                transitions.append(
                    ApplicationTransition(
                        application=app,
                        from_state=before,
                        to_state=step.to_state,
                        actor=step.actor,
                        reason=step.reason[:500],
                        evidence=step.evidence,
                        created_at=at,
                    )
                )
                before = step.to_state
            if plan.hit:
                code, title, evidence = plan.hit
                hit = ApplicationRiskHit(
                    application=app,
                    stage=ApplicationRiskHit.Stage.ARRIVAL,
                    code=code,
                    title=title,
                    evidence=evidence,
                    created_at=times[0] + dt.timedelta(minutes=2),
                )
                if plan.hit_resolved:
                    review = next(
                        at for step, at in zip(plan.steps, times, strict=True) if step.to_state == State.REVIEWING
                    )
                    hit.resolved_at, hit.resolved_by = review, planner.officer_of(plan.taxpayer)
                    hit.resolution = "已核实：纳税人提供说明及凭证，疑点排除"
                hits.append(hit)
            if plan.coached:
                n = planner.work.index[plan.received_on]
                day = planner.day(max(0, n - rng.randint(0, 4)))
                topic = rng.choices(list(_COACHING_NOTES), weights=_COACHING_WEIGHTS)[0]
                at = dt.datetime.combine(day, dt.time(9, 0), SHANGHAI) + dt.timedelta(minutes=rng.randrange(420))
                coachings.append(
                    CoachingRecord(
                        taxpayer_id=plan.taxpayer["id"],
                        application=app,
                        topic=topic,
                        notes=_COACHING_NOTES[topic],
                        coached_on=day,
                        officer=planner.officer_of(plan.taxpayer),
                        created_at=at,
                    )
                )
            if app.state == State.PAID:
                payments.append(
                    TreasuryPayment(
                        application=app,
                        voucher_number=plan.steps[-1].reason.split()[-1],
                        amount=app.paid_amount,
                        paid_on=app.paid_on,
                        source=TreasuryPayment.Source.IMPORT,
                        entered_by=planner.refund_officer,
                        created_at=times[-1],
                    )
                )
        ApplicationTransition.objects.bulk_create(transitions, batch_size=1000)
        ApplicationRiskHit.objects.bulk_create(hits, batch_size=500)
        CoachingRecord.objects.bulk_create(coachings, batch_size=500)
        TreasuryPayment.objects.bulk_create(payments, batch_size=500)

        # One succeeded morning registration per payment day, the next working day at 08:30 — once it has come.
        by_day: dict[dt.date, list[TreasuryPayment]] = defaultdict(list)
        for payment in payments:
            by_day[payment.paid_on].append(payment)
        runs = {}
        for day, day_payments in sorted(by_day.items()):
            started = dt.datetime.combine(add_working_days(day, 1, estimate=True), dt.time(8, 30), SHANGHAI)
            started += dt.timedelta(seconds=rng.randrange(5, 40))
            if started >= planner.now:
                continue
            runs[day] = LedgerRun(
                day=day,
                status=LedgerRun.Status.SUCCEEDED,
                started_at=started,
                finished_at=started + dt.timedelta(seconds=rng.randrange(2, 30)),
                entry_count=len(day_payments),
                total_amount=sum((p.amount for p in day_payments), Decimal("0")),
                bill_count=0,
                message=f"登记退税 {len(day_payments)} 笔（{BILL_NOTE}）",
            )
        LedgerRun.objects.bulk_create(runs.values(), batch_size=500)

        plan_of = {id(app): plan for plan, app in zip(plans, applications, strict=True)}
        entries = []
        for payment in payments:
            app = payment.application
            plan, taxpayer = plan_of[id(app)], plan_of[id(app)].taxpayer
            entries.append(
                LedgerEntry(
                    payment=payment,
                    application=app,
                    taxpayer_id=taxpayer["id"],
                    identifier=taxpayer["identifier"],
                    name=taxpayer["name"],
                    branch_id=taxpayer["branch_id"],
                    refund_kind=app.kind,
                    application_period=app.application_period,
                    amount=payment.amount,
                    incremental_amount=app.paid_incremental,
                    stock_amount=app.paid_stock,
                    paid_on=payment.paid_on,
                    regime=app.regime,
                    size=app.size,
                    industry_code=app.industry_code,
                    run=runs.get(payment.paid_on),
                    bill_error=BILL_NOTE if payment.paid_on in runs else "",
                    credit_check=plan.credit_check,
                    credit_check_period=plan.period if plan.credit_check != LedgerEntry.CreditCheck.PENDING else "",
                    credit_check_note=plan.credit_note[:300],
                    created_at=payment.created_at,
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=500)

    result.applications = len(applications)
    result.transitions = len(transitions)
    result.risk_hits = len(hits)
    result.coachings = len(coachings)
    result.payments = len(payments)
    result.runs = len(runs)
    result.paid_total = sum((p.amount for p in payments), Decimal("0"))
    by_state: dict[str, int] = defaultdict(int)
    for app in applications:
        by_state[app.state] += 1
    result.by_state = dict(by_state)


PART_PAYMENT_SHARE = Decimal("0.6")


def record_part_payment(*, today: dt.date) -> LedgerEntry | None:
    """One application the treasury has paid in part (部分退库), so 待退库 shows the case: the application approved
    longest ago gets 60% of its confirmed amount, recorded through the service as the refund officer would.
    None when no application waits for payment or one was already paid in part."""
    from .services import payment_record

    if RefundApplication.objects.filter(state=State.PARTLY_PAID).exists():
        return None
    app = RefundApplication.objects.filter(state=State.APPROVED).order_by("approved_at", "pk").first()
    officer = User.objects.filter(groups__name=RoleCode.REFUND_OFFICER, is_active=True).order_by("pk").first()
    if app is None or officer is None:
        return None
    amount = (app.confirmed_amount * PART_PAYMENT_SHARE).quantize(CENT, ROUND_HALF_UP)
    incremental = min(amount, app.confirmed_incremental or Decimal("0"))
    approved_on = timezone.localdate(app.approved_at)
    paid_on = max(approved_on, min(add_working_days(approved_on, 2, estimate=True), today - dt.timedelta(days=1)))
    return payment_record(
        actor=officer,
        application=app,
        voucher_number=f"{VOUCHER_PREFIX}{paid_on:%Y%m%d}901",
        amount=amount,
        paid_on=paid_on,
        incremental=incremental,
        stock=amount - incremental,
    )


def history_exists() -> bool:
    return RefundApplication.objects.exists()


def demo_taxpayers() -> dict[int, dict]:
    codes = [unit.code for unit in demo.branch_units(demo.MAX_BRANCHES)]
    fields = ("id", "identifier", "name", "branch_id", "industry_code", "size", "credit_level", "filing_frequency")
    return {row["id"]: row for row in Taxpayer.objects.filter(branch__code__in=codes).values(*fields).order_by("id")}


def build_demo_history(*, today: dt.date, seed: int = 2026, now: dt.datetime | None = None) -> HistoryResult | None:
    """Write the demo county's history up to ``today`` in one transaction; None when applications exist.

    ``now`` (default: the current time) bounds every timestamp; events happen on working days before
    ``today``, ledger runs on the morning after a payment day once that morning has passed ``now``.
    """
    if history_exists():
        return None
    started = time.perf_counter()
    now = now or timezone.now()
    planner = _Planner(today=today, seed=seed, now=now)
    if planner.refund_officer is None:
        raise ValueError("no refund officer: run seed_demo first")
    taxpayers = demo_taxpayers()
    result = HistoryResult()
    if not taxpayers:
        return result
    planner.build(taxpayers)  # reads and the rules, before the write transaction
    with transaction.atomic():
        if history_exists():  # another run got here first
            return None
        _write(planner, result)
        result.skipped_refunds = planner.skipped
        result.median_days = median_working_days_to_payment(RefundApplication.objects.all())
        record_event(
            actor=None,
            verb="demo_history_seeded",
            object_type="ledger.demo",
            object_repr="示范县演示历史",
            summary=(
                f"生成演示历史：留抵退税申请 {result.applications:,} 件，退库 {result.payments:,} 笔，"
                f"合计 {format_yuan(result.paid_total)} 元（随机种子 {seed}，截至 {today.isoformat()}）"
            ),
        )
    result.seconds = time.perf_counter() - started
    return result
