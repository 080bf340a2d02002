"""What the history planner works with: its constants, one planned application, the office clock and calendar,
the demo officers, and the rules' answers read as the history needs them."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import namedtuple
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.models import User
from accounts.roles import RoleCode
from core.periods import Period
from refund.models import CoachingRecord, RefundApplication
from refund.rules import Case, CaseError, Decision
from refund.rules.conditions import Condition
from refund.rules.regimes import cents
from refund.rules.split import kind_of as split_kind_of
from refund.rules.split import proportional_split
from refund.screening.case_builder import taxpayer_case
from refund.screening.decisions import Outcome, decision_of
from taxpayers.calendar import is_working_day

FIRST_PERIOD = Period(2022, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
DOCUMENT_PREFIX = "示退受"  # 受理文书号 of the demo history: 示退受〔2023〕00042号
VOUCHER_PREFIX = "示库"  # 退库凭证号 of the demo history: 示库20230512003
REJECT_MIN_CREDIT = Decimal("200000")  # rejection and open-work candidates carry at least this credit
REJECT_TRIES_PER_MONTH = (0, 1, 1, 2, 3)
NOT_REDUCED_EVERY = 8  # about one eligible-but-unrefunded taxpayer paid every 8 months
OPEN_LAST_MONTH = 14  # open applications of last month's period (the overdue ones among them)
OPEN_THIS_MONTH = 8
BILL_NOTE = "演示历史数据，未发送账单短信"
HIT_RESOLUTION = "已核实：纳税人提供说明及凭证，疑点排除"

State = RefundApplication.State
Kind = RefundApplication.Kind

COACHING_NOTES = {
    CoachingRecord.Topic.FILING: "辅导纳税人核对增值税申报表附列资料（二）进项税额明细，确认期末留抵税额。",
    CoachingRecord.Topic.KIND: "讲解增量留抵与存量留抵的计算口径，说明本次适用的退税类型。",
    CoachingRecord.Topic.INPUT_RATIO: "辅导计算进项构成比例，核对专票、海关缴款书等抵扣凭证分类。",
    CoachingRecord.Topic.AMOUNT: "按规则测算可退税额，与纳税人财务核对增量、存量及退税比例。",
    CoachingRecord.Topic.FORM: "一对一辅导填写《退（抵）税申请表》及留抵退税申请相关栏次。",
}
COACHING_WEIGHTS = (2, 2, 3, 3, 4)
UPSTREAM_HIT = ("upstream_invoice", "进项发票涉及异常凭证，需核实", "上游开票企业被列为异常凭证提供方")


Step = namedtuple("Step", "to_state day actor reason evidence", defaults=("", None))
Step.__doc__ = "One planned move: the state it reaches, on which working day, by which officer, why, on what evidence."


@dataclass
class Plan:
    """One application as it will be written: the row's figures and its steps in order."""

    taxpayer: dict
    period: Period
    received_on: dt.date
    claimed: Decimal
    level: str
    case: Case
    decision: Decision  # the rules' decision at receipt (a case they cannot assess is never planned)
    steps: list[Step] = field(default_factory=list)
    paid: Decimal | None = None  # set for paid applications
    correction: str = ""
    hit: tuple[str, str, dict] | None = None  # (code, title, evidence) of an arrival risk hit
    coached: bool = False


class Clock:
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


class WorkingDays:
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


def officers() -> tuple[User, dict[int, User]]:
    """The demo refund officer and one branch officer per branch (the refund officer where none)."""
    refunds = User.objects.filter(is_active=True, groups__name=RoleCode.REFUND_OFFICER.value)
    refund = refunds.filter(username="refund").first() or refunds.order_by("username").first()
    branch_officers: dict[int, User] = {}
    for user in User.objects.filter(is_active=True, groups__name=RoleCode.BRANCH_OFFICER.value).order_by("username"):
        if user.branch_id is not None:
            branch_officers.setdefault(user.branch_id, user)
    return refund, branch_officers


# --- the rules ------------------------------------------------------------------------------------------


def assess(taxpayer_id: int, period: Period, on: dt.date, level: str | None = None) -> tuple[Case, Outcome]:
    """(case, the rules' decision or why they cannot assess it): the demo plans on the decision and writes the
    application with both, as the service does."""
    case = taxpayer_case(taxpayer_id=taxpayer_id, application_period=period, application_date=on, credit_level=level)
    return case, decision_of(case)


def assessed(outcome: Outcome) -> bool:
    return not isinstance(outcome, CaseError)


def failed(decision: Decision) -> list[Condition]:
    return [c for c in decision.conditions if not c.passed]


def split(amount: Decimal, decision: Decision) -> tuple[Decimal, Decimal]:
    """(incremental, stock) of ``amount`` in the proportion of the rules' figures (in cents, as the contract gives
    them), by the one split rule; the demo's one call of a split: the confirmation of every application (its payment
    takes the confirmed split)."""
    parts = proportional_split(
        amount, incremental=cents(decision.refundable_incremental), stock=cents(decision.refundable_stock)
    )
    return parts.incremental, parts.stock


def kind_of(decision: Decision) -> str:
    return split_kind_of(incremental=cents(decision.refundable_incremental), stock=cents(decision.refundable_stock))
