"""Demo history (演示历史): the demo county's refund applications, payments and ledger since 2022-01.

Why: on the first start of ``make demo`` the queue, the application pages and the ledger should already
show a county's working life — four years of refunds, a few returned and rejected cases, and open work in
the current month — instead of empty tables.

Where the history comes from (deterministic for a given ``seed`` and ``today``; ``planner``):

- **Paid refunds follow the demo returns.** Every return since 2022-01 whose 本期留抵退税额
  (``credit_refunded``) is positive is a refund the taxpayer received in that month: it becomes an
  application for that period, received after the tax period's return was filed and paid, mostly within the
  month, for exactly the refunded amount. The ledger's own check then finds the return showing the credit
  reduced by the refund (``LedgerEntry.credit_check`` = reduced).
- **The real rules decide and price each application**: ``refund.screening.case_builder.taxpayer_case`` and
  ``refund.screening.decisions.decision_of`` at the receipt date give the regime, size, computed figures (stored as
  ``computed_*`` with the inputs and result snapshots) and the incremental/stock split, which the paid
  amount follows. The rating at submission is the one in force on the receipt date (the demo's ratings
  since 2019 are A or B in the years a refund was received, the latest year aside); where the rules fail a
  paid refund on the rating alone, it is taken as B. A refund
  the rules reject for any other reason (or cannot assess) gets no application and is counted as skipped.
- A claim above the rules' figure is returned (回退) by the arrival risk gate with the mismatch as
  evidence, verified by the branch officer and then approved; a few others are returned for an upstream
  invoice check. Rejections (不予退税) come from taxpayers with a large credit and no refund in their
  return whom the rules find ineligible — the reason is the failed conditions' own text. A few taxpayers
  the rules find eligible but whose next return shows no refund are paid anyway: the ledger's check flags
  their entries ``not_reduced`` (the return does not show the credit reduced by the refund).
- **Open work**: applications of last month and of the current month from taxpayers the rules find
  eligible and whose returns show no refund yet, left received / investigating / reviewing / returned,
  some received more than 10 working days ago (overdue).

Every event lies on a working day (``taxpayers.calendar``: Chinese holidays and make-up workdays) in
office hours, Asia/Shanghai, before ``now``; transitions chain from received to the final state with the
demo officers as actors (the taxpayer's branch officer investigates and confirms, the refund officer
returns, rejects, approves and enters the payment). Treasury payments carry voucher numbers, ledger
entries copy the taxpayer's fields, one succeeded ``LedgerRun`` per payment day registers them the next
working morning at 08:30 (no bill SMS is sent for history). ``writing`` stores it all through the apps' bulk
paths for past records (``refund.applications.bulk``, ``ledger.bulk``), which check every row as the services would and
keep the history's own timestamps.

Idempotent: nothing is written when any refund application exists.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import User
from accounts.roles import RoleCode
from core.money import format_yuan
from ledger.models import LedgerEntry
from ledger.services import payment_record
from ledger.statistics import median_working_days_to_payment
from refund.models import RefundApplication
from taxpayers.calendar import add_working_days
from taxpayers.models import Taxpayer

from .. import county
from .planner import Planner
from .plans import CENT, VOUCHER_PREFIX, State
from .writing import HistoryResult, write

PART_PAYMENT_SHARE = Decimal("0.6")


def record_part_payment(*, today: dt.date) -> LedgerEntry | None:
    """One application the treasury has paid in part (部分退库), so 待退库 shows the case: the application approved
    longest ago gets 60% of its confirmed amount, recorded through the service as the refund officer would.
    None when no application waits for payment or one was already paid in part."""
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
    codes = [unit.code for unit in county.branch_units(county.MAX_BRANCHES)]
    fields = ("id", "identifier", "name", "branch_id", "industry_code", "size", "filing_frequency")
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
    planner = Planner(today=today, seed=seed, now=now)
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
        write(planner, result)
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
