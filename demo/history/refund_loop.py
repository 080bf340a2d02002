"""The demo county's loop between the rating and the refund (信用修复提示 → 修复 → 即时名单), run through the
product's own services in this process, so that both refund pages have rows on the first start.

1. The screening of the latest push date (``push_date_screening``): the run ``push_date_run`` then builds the push
   date's lists on (it finds it finished and reuses it).
2. 信用修复提示: ``repair_notices_list`` on that run, as after a ratings import — the taxpayers failing only on their
   rating, with the refund a B would unlock.
3. A few C taxpayers of that list, the closest to B first, correct the late returns of the rated year that keep
   them below B after the notice, apply for repair, and the credit officer grants it today
   (``credit.repairs.services``): the repair brings them to B.
4. Each is screened again at once by the worker's own step (``candidate_adhoc_after_rating``), here in process:
   when the step needs a run of today's period that does not exist yet, that run is executed here and the step
   tried again. Eligible now, the taxpayer goes onto today's 即时名单.

While the demo writes, ``rescreens_in_process`` keeps ``credit.signals.rating_changed`` from handing re-screens to
a worker (``refund.signals.rescreen_after_rating``): the history's decisions, dated before the push date, are seen
by its screening anyway, and today's are re-screened in step 4.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from core.errors import ApplicationError
from credit.bulk import PastEvent, dishonesty_events_backfill
from credit.models import CreditCase, CreditRating, DishonestyEvent
from credit.repairs import services as cases
from credit.rules.indicators import LATE_FILING
from credit.signals import rating_changed
from refund.candidates.adhoc import RunPending, candidate_adhoc_after_rating
from refund.candidates.push_dates import latest_push_date
from refund.candidates.routine import push_date_screening
from refund.models import RepairNotice, ScreeningRun
from refund.repair_notices.services import repair_notices_list
from refund.screening.services import screening_run_execute
from refund.signals import rescreen_after_rating
from taxpayers.calendar import CalendarUnavailable
from taxpayers.models import Taxpayer

RESCREEN_UID = "refund_rescreen_after_rating"  # refund.signals' receiver, connected in refund's AppConfig.ready()
LOOP_CASES = 3  # taxpayers repaired to B after their notice
LOOP_NOTE = "演示：收到信用修复提示后纠正"
B_FLOOR = Decimal(70)  # the lowest B score of both rule sets
RESTORED_PER_LATE_RETURN = Decimal(2)  # 40 % of 5 points (2025 rules, corrected more than 90 days late)
PASSING = ("A", "B")


@dataclass
class LoopResult:
    notices: int = 0
    repaired: int = 0
    adhoc: int = 0
    skipped: str = ""  # why the loop did not run (no push date in the calendar)


@contextmanager
def rescreens_in_process() -> Iterator[None]:
    """While the demo writes, refund's receiver of ``rating_changed`` (a re-screen handed to a worker) is off: the
    history's decisions are seen by the push date's screening, and the loop re-screens today's itself."""
    rating_changed.disconnect(dispatch_uid=RESCREEN_UID)
    try:
        yield
    finally:
        rating_changed.connect(rescreen_after_rating, dispatch_uid=RESCREEN_UID)


def run_refund_loop(*, today: dt.date, officer) -> LoopResult:
    """Steps 1–4 of the module docstring."""
    result = LoopResult()
    try:
        push_date = latest_push_date(today)
    except (ApplicationError, CalendarUnavailable) as exc:
        result.skipped = getattr(exc, "message", "") or str(exc)
        return result
    run, _ = push_date_screening(actor=None, push_date=push_date)
    result.notices = repair_notices_list(actor=None, run=run).listed
    after_notice = min(push_date + dt.timedelta(days=1), today)
    repaired = []
    for taxpayer_id, rating in _closest_to_b(run, count=LOOP_CASES * 2):
        if len(repaired) == LOOP_CASES:
            break
        if level := _repair(taxpayer_id, rating, corrected_on=after_notice, today=today, officer=officer):
            repaired.append((taxpayer_id, level))
    result.repaired = len(repaired)
    result.adhoc = sum(_rescreen(taxpayer_id, level, today).item is not None for taxpayer_id, level in repaired)
    return result


def _closest_to_b(run: ScreeningRun, *, count: int) -> list[tuple[int, CreditRating]]:
    """The run's C taxpayers on the notice list with no case under way, the highest scores first (the fewest
    behaviours to correct), each with its rating in force on the run's date."""
    ids = set(RepairNotice.objects.filter(run=run, level="C").values_list("taxpayer_id", flat=True))
    ids -= set(
        CreditCase.objects.filter(taxpayer_id__in=ids, state__in=CreditCase.OPEN_STATES).values_list(
            "taxpayer_id", flat=True
        )
    )
    latest: dict[int, CreditRating] = {}
    in_force = CreditRating.objects.filter(taxpayer_id__in=ids, evaluated_on__lte=run.application_date)
    for rating in in_force.order_by("evaluated_on", "pk"):
        latest[rating.taxpayer_id] = rating
    rated = [r for r in latest.values() if r.level == "C" and r.score is not None]
    rated.sort(key=lambda r: (-r.score, r.taxpayer_id))
    return [(r.taxpayer_id, r) for r in rated[:count]]


def _behaviours(rating: CreditRating, *, corrected_on: dt.date) -> list[PastEvent]:
    """Late returns of the rated year (城市维护建设税, filed with the monthly VAT return), open when it was rated, in
    as many months as it takes to restore the points short of B: 40 % of 5 points each when corrected more than 90
    days late (2025 rules), the latest months first and one more for an earlier month the 2014 rules restore less
    of. Months already charged with a late return are skipped (the 2025 rules count late returns per month)."""
    year, taxpayer_id = rating.year, rating.taxpayer_id
    charged = {
        day.month
        for day in DishonestyEvent.objects.filter(
            taxpayer_id=taxpayer_id, indicator=LATE_FILING, recorded_on__year=year
        ).values_list("recorded_on", flat=True)
    }
    needed = math.ceil((B_FLOOR - rating.score) / RESTORED_PER_LATE_RETURN) + 1
    months = [month for month in range(12, 0, -1) if month not in charged][:needed]
    return [
        PastEvent(taxpayer_id, LATE_FILING, dt.date(year, month, 16), tax="城市维护建设税", amount=Decimal("1200.00"),
                  corrected_on=corrected_on, note=LOOP_NOTE)
        for month in sorted(months)
    ]  # fmt: skip


def _repair(taxpayer_id: int, rating: CreditRating, *, corrected_on: dt.date, today: dt.date, officer) -> str:
    """The taxpayer corrects the behaviours after its notice and applies; granted today when the repair brings
    it to A or B: that level, else "" (refused, or the case left received as an officer would leave it)."""
    rows = _behaviours(rating, corrected_on=corrected_on)
    try:
        dishonesty_events_backfill(actor=None, rows=rows, today=today, description="示范县演示：修复提示后纠正")
        events = list(DishonestyEvent.objects.filter(taxpayer_id=taxpayer_id, note=LOOP_NOTE).order_by("pk"))
        taxpayer = Taxpayer.objects.get(pk=taxpayer_id)
        case = cases.credit_case_receive(
            actor=officer, taxpayer=taxpayer, kind="repair", year=rating.year,
            corrections={e.pk: e.corrected_on for e in events},
            contact_name=taxpayer.finance_contact_name or taxpayer.legal_rep_name or "办税人",
            contact_phone=taxpayer.finance_contact_mobile or taxpayer.legal_rep_mobile or "0571-00000000",
            statement="收到信用修复提示后已补办申报，申请按规定修复。", received_on=corrected_on,
        )  # fmt: skip
    except ApplicationError:
        return ""  # too late in the year for these behaviours, or the rules refuse them
    if case.level_after not in PASSING:
        return ""
    cases.credit_case_review(actor=officer, case_id=case.pk)
    cases.credit_case_decide(actor=officer, case_id=case.pk, granted_event_ids=[e.pk for e in events], on=today)
    return case.level_after


def _rescreen(taxpayer_id: int, level: str, today: dt.date):
    """The worker's step in process; a run it must wait for is executed here, then the step runs again."""
    for _ in range(3):
        try:
            return candidate_adhoc_after_rating(taxpayer_id=taxpayer_id, level=level, effective_on=today)
        except RunPending:
            for run_id in ScreeningRun.objects.filter(status=ScreeningRun.Status.PENDING).values_list("pk", flat=True):
                screening_run_execute(run_id=run_id)
    raise ApplicationError("重新筛查所需的筛查未能完成。")
