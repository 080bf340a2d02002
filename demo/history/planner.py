"""The plan of the demo history: which applications the county made since 2022-01, and what became of each.

Reads the demo taxpayers' returns and asks the real rules (``plans.assess``) about each candidate application;
writes nothing (``writing`` turns the plans into rows through the apps' bulk paths). Every draw comes from one
generator seeded with the command's ``--seed``, in a fixed order: same seed and day, same history.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import User
from core.money import format_yuan
from core.periods import Period
from refund.rules import Case
from refund.rules.regimes import cents
from refund.screening.case_builder import tax_period_of
from refund.screening.decisions import Outcome
from taxpayers.models import Taxpayer, VatReturn

from .plans import (
    CENT,
    FIRST_PERIOD,
    NOT_REDUCED_EVERY,
    OPEN_LAST_MONTH,
    OPEN_THIS_MONTH,
    REJECT_MIN_CREDIT,
    REJECT_TRIES_PER_MONTH,
    UPSTREAM_HIT,
    Plan,
    State,
    Step,
    WorkingDays,
    assess,
    assessed,
    failed,
    officers,
)


class Planner:
    def __init__(self, *, today: dt.date, seed: int, now: dt.datetime) -> None:
        self.today = today
        self.rng = random.Random(seed)
        self.now = now
        self.current = Period.of(today)
        self.last = self.current.minus(1)
        self.work = WorkingDays(dt.date(FIRST_PERIOD.year - 1, 12, 1), today)
        self.refund_officer, self.branch_officers = officers()
        self.plans: list[Plan] = []
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
        """A paid refund of ``period``: ``refunded`` as the return shows it (``reduced``), or the rules' figure for
        one the return does not show."""
        rng = self.rng
        n = self.receipt_index(taxpayer, period, filed, 7)
        if n is None:
            return False
        received = self.day(n)
        level, case, outcome = self._rated(taxpayer, period, received)
        if not assessed(outcome) or not outcome.eligible:
            return False
        computed = cents(outcome.refundable_total)
        claimed = refunded if reduced else computed
        if claimed <= 0:
            return False
        plan = Plan(taxpayer, period, received, claimed, level, case, outcome, paid=claimed)
        plan.coached = rng.random() < 0.3
        steps = [Step(State.RECEIVED, received, self.refund_officer, "核心征管系统受理")]
        if claimed > computed or rng.random() < 0.06:
            k = self._returned_and_verified(plan, steps, n, computed)
        else:
            k = self._verified(plan, steps, n, computed)
        k += rng.randint(1, 2)
        steps.append(Step(State.APPROVED, self.day(k), self.refund_officer, "审批通过"))
        k += rng.randint(1, 2)
        steps.append(Step(State.PAID, self.day(k), self.refund_officer, ""))  # voucher number set on writing
        if steps[-1].day >= self.today:
            return False
        plan.steps = steps
        self.add(plan)
        return True

    def _rated(self, taxpayer: dict, period: Period, received: dt.date) -> tuple[str, Case, Outcome]:
        """(credit level at submission, case, the rules' outcome): the rating in force on the receipt date; where
        the rules fail a paid refund on that rating alone (a refund received while the rating in force was not
        A or B, which the demo ratings avoid for every year but the latest), it is taken as B."""
        case, outcome = assess(taxpayer["id"], period, received)
        level = case.taxpayer.credit_level
        if assessed(outcome) and not outcome.eligible and outcome.failed_conditions == ["credit_a_or_b"]:
            level = "B"
            case, outcome = assess(taxpayer["id"], period, received, "B")
        return level, case, outcome

    def _returned_and_verified(self, plan: Plan, steps: list[Step], k: int, computed: Decimal) -> int:
        """Returned by the arrival risk gate, verified by the branch officer, then to review; the last day index."""
        rng, claimed = self.rng, plan.claimed
        officer = self.officer_of(plan.taxpayer)
        if claimed > computed:
            plan.hit = (
                "recomputation_mismatch",
                "申请退税额与规则计算可退税额不一致",
                {"claimed": str(claimed), "computed": str(computed), "regime": plan.decision.regime},
            )
        else:
            code, title, note = UPSTREAM_HIT
            plan.hit = (code, title, {"note": note})
        steps.append(
            Step(
                State.RETURNED,
                self.day(k),
                self.refund_officer,
                f"受理扫描发现疑点：{plan.hit[1]}",
                {"risk_hit": plan.hit[0], **plan.hit[2]},
            )
        )
        k += rng.randint(1, 3)
        steps.append(Step(State.INVESTIGATING, self.day(k), officer, "纳税人补充说明及资料后重新核实"))
        k += rng.randint(1, 2)
        plan.correction = (
            f"经核实进项构成比例分类口径，按申请退税额确认（规则计算可退税额 {format_yuan(computed)} 元）"
            if claimed != computed
            else ""
        )
        steps.append(Step(State.REVIEWING, self.day(k), officer, "疑点已核实排除，确认退税额并提交审核"))
        return k

    def _verified(self, plan: Plan, steps: list[Step], k: int, computed: Decimal) -> int:
        """Investigated (or not) and confirmed by the branch officer, then to review; the last day index."""
        rng = self.rng
        officer = self.officer_of(plan.taxpayer)
        if plan.claimed != computed:
            plan.correction = f"按纳税人申请退税额确认（规则计算可退税额 {format_yuan(computed)} 元）"
        if rng.random() < 0.6:
            k += rng.randint(0, 1)
            steps.append(Step(State.INVESTIGATING, self.day(k), officer, "前置调查"))
            k += rng.randint(0, 1)
        else:
            k += rng.randint(0, 1)
        steps.append(Step(State.REVIEWING, self.day(k), officer, "调查核实无疑点，确认退税额并提交审核"))
        return k

    def rejected(self, taxpayer: dict, period: Period, credit: Decimal, filed: dict) -> bool:
        rng = self.rng
        n = self.receipt_index(taxpayer, period, filed, 5)
        if n is None:
            return False
        received = self.day(n)
        case, outcome = assess(taxpayer["id"], period, received)
        if not assessed(outcome) or outcome.eligible:
            return False
        unmet = failed(outcome)
        reason = "不符合留抵退税条件：" + "；".join(c.detail for c in unmet)
        claimed = (credit * Decimal(rng.uniform(0.4, 0.9))).quantize(CENT, ROUND_HALF_UP)
        plan = Plan(taxpayer, period, received, claimed, case.taxpayer.credit_level, case, outcome)
        officer = self.officer_of(taxpayer)
        steps = [Step(State.RECEIVED, received, self.refund_officer, "核心征管系统受理")]
        k = n + rng.randint(0, 1)
        steps.append(Step(State.INVESTIGATING, self.day(k), officer, "前置调查"))
        k += rng.randint(1, 3)
        steps.append(
            Step(
                State.REJECTED,
                self.day(k),
                self.refund_officer,
                reason[:500],
                {"failed_conditions": [c.code for c in unmet]},
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
        case, outcome = assess(taxpayer["id"], period, received)
        if not assessed(outcome) or not outcome.eligible:
            return False
        computed = cents(outcome.refundable_total)
        plan = Plan(taxpayer, period, received, computed, case.taxpayer.credit_level, case, outcome)
        officer = self.officer_of(taxpayer)
        steps = [Step(State.RECEIVED, received, self.refund_officer, "核心征管系统受理")]
        last = len(self.work.days) - 1
        k = received_index
        stage = rng.choices(
            ("received", "investigating", "reviewing", "approved", "returned"), weights=(3, 4, 3, 2, 2)
        )[0]
        if stage in ("investigating", "reviewing", "approved"):
            k = min(k + rng.randint(0, 2), last)
            steps.append(Step(State.INVESTIGATING, self.day(k), officer, "前置调查"))
        if stage in ("reviewing", "approved"):
            k = min(k + rng.randint(1, 3), last)
            steps.append(Step(State.REVIEWING, self.day(k), officer, "调查核实无疑点，确认退税额并提交审核"))
        if stage == "approved":  # the treasury has not paid yet: 待退库
            k = min(k + 1, last)
            steps.append(Step(State.APPROVED, self.day(k), self.refund_officer, "审批通过"))
        if stage == "returned":
            code, title, note = UPSTREAM_HIT
            plan.hit = (code, title, {"note": note})
            k = min(k + rng.randint(0, 1), last)
            steps.append(
                Step(
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

    def add(self, plan: Plan) -> None:
        self.used.add((plan.taxpayer["id"], plan.period))
        self.plans.append(plan)

    # -- the months ------------------------------------------------------------------------------

    def build(self, taxpayers: dict[int, dict]) -> None:
        returns, filed, refunded_in = _returns(list(taxpayers))
        period = FIRST_PERIOD
        while period <= self.last:
            self._month(taxpayers, period, returns, filed, refunded_in)
            period = period.plus(1)
        credits_now = sorted(
            taxpayer_id
            for taxpayer_id, credit, _ in returns.get(self.last, ())
            if credit >= REJECT_MIN_CREDIT
            and taxpayers[taxpayer_id]["filing_frequency"] == Taxpayer.FilingFrequency.MONTHLY
        )
        self.open_work(taxpayers, self.current, credits_now, filed, OPEN_THIS_MONTH)

    def _month(self, taxpayers: dict[int, dict], period: Period, returns: dict, filed: dict, refunded_in: dict) -> None:
        """The refunds the returns of ``period`` show, then rejections and open work among large credits."""
        rng = self.rng
        for taxpayer_id, _, refunded in sorted(returns.get(period, ())):
            if refunded > 0 and not self.paid(taxpayers[taxpayer_id], period, refunded, filed, reduced=True):
                self.skipped += 1
        # Large credits without a refund this month: rejections, and now and then one paid without the return
        # showing it.
        prior = period.minus(1)
        pool = sorted(
            taxpayer_id
            for taxpayer_id, credit, _ in returns.get(prior, ())
            if credit >= REJECT_MIN_CREDIT
            and (taxpayer_id, period) not in refunded_in
            and taxpayers[taxpayer_id]["filing_frequency"] == Taxpayer.FilingFrequency.MONTHLY
        )
        if period == self.last:
            self.open_work(taxpayers, period, pool, filed, OPEN_LAST_MONTH)
            return
        credits = {taxpayer_id: credit for taxpayer_id, credit, _ in returns.get(prior, ())}
        rng.shuffle(pool)
        for taxpayer_id in pool[: rng.choice(REJECT_TRIES_PER_MONTH)]:
            self.rejected(taxpayers[taxpayer_id], period, credits[taxpayer_id], filed)
        if pool and rng.randrange(NOT_REDUCED_EVERY) == 0:
            candidate = pool[-1]
            if (candidate, period) not in self.used:
                self.paid(taxpayers[candidate], period, Decimal("0"), filed, reduced=False)

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


def _returns(taxpayer_ids: list[int]) -> tuple[dict, dict, dict]:
    """The demo taxpayers' returns since three months before the history: (period → [(taxpayer, end credit,
    refunded)], (taxpayer, period) → filing date, (taxpayer, period) → refunded when positive)."""
    returns: dict[Period, list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
    filed: dict[tuple[int, Period], dt.date] = {}
    refunded_in: dict[tuple[int, Period], Decimal] = {}
    rows = VatReturn.objects.filter(taxpayer_id__in=taxpayer_ids, period__gte=FIRST_PERIOD.minus(3)).values_list(
        "taxpayer_id", "period", "filed_on", "end_credit", "credit_refunded"
    )
    for taxpayer_id, period, filed_on, end_credit, refunded in rows.iterator(chunk_size=5000):
        returns[period].append((taxpayer_id, end_credit, refunded))
        if filed_on:
            filed[(taxpayer_id, period)] = filed_on
        if refunded:
            refunded_in[(taxpayer_id, period)] = refunded
    return returns, filed, refunded_in
