"""Writes of the credit warnings: the daily predictions (set-based, chunked by taxpayer id, an idempotent upsert)
and one taxpayer's after a decision changed its rating, the warning SMS through the outbox (never twice for the same
behaviour) and the contacts the officer records.

The prediction reads, per chunk of taxpayers, the events recorded in the evaluation year in one query and the
ratings in force in one query, then calls ``credit.rules.assess`` in memory for each taxpayer: a bounded number of
statements whatever the number of taxpayers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import ApplicationError
from core.masking import mask_identifier
from notify.models import MessageTemplate
from notify.selectors import sendable_template
from notify.services import SmsRejected, sms_enqueue
from taxpayers.models import Taxpayer

from ..models import CreditContact, CreditPrediction, DishonestyEvent
from ..repairs.services import non_normal_spells_track
from ..rules import Assessment, CaseError, Evaluation, Event, TaxpayerFacts, assess
from ..selectors import rating_in_force_sql
from ..services import late_returns_derive
from .selectors import SmsTarget, sms_targets

logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = (
    "taxpayer_id",
    "year",  # the two of the unique key, then the values an upsert replaces
    "current_level",
    "score",
    "level",
    "score_if_repaired",
    "level_if_repaired",
    "points_at_stake",
    "deadline",
    "open_events",
    "warnings",
    "computed_at",
)
TEMPLATE_FOR_LEVEL = {"A": "credit_warning_ab", "B": "credit_warning_ab"}
TEMPLATE_OTHERWISE = "credit_warning_cd"
TEMPLATE_NAMES = {
    "credit_warning_ab": "纳税信用预警（A、B级纳税人）",
    "credit_warning_cd": "纳税信用修复提示（C、D级纳税人）",
}
ASSESSED_KEPT = 20_000  # assessments kept for taxpayers with the same inputs (a few KB each)


@dataclass(frozen=True)
class PredictionRun:
    year: int
    predicted: int
    failed: int  # taxpayers whose events the rules refused (an unknown indicator): logged, left as they were


def credit_warnings_daily(*, today: dt.date | None = None) -> PredictionRun:
    """The daily job: follow the 非正常户 status (a lifting repairs without application where the rules say so),
    derive the late returns from the returns held, then predict every taxpayer's rating."""
    today = today or timezone.localdate()
    non_normal_spells_track(today=today)
    late_returns_derive(today=today)
    return credit_predictions_refresh(today=today)


def credit_predictions_refresh(*, today: dt.date | None = None, chunk: int = 5000) -> PredictionRun:
    """Predict the current evaluation year (the calendar year of ``today``) for every taxpayer still registered;
    one row per taxpayer and year, upserted: running it again gives the same rows.

    Taxpayers are read ``chunk`` at a time in id order (keyset: the next chunk starts after the last id), each
    chunk with one statement for its events and one for its ratings in force, assessed in memory and written
    in one upsert: the statements grow with the chunks, never with the taxpayers' events."""
    today = today or timezone.localdate()
    year = today.year
    predicted = failed = 0
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    registered = Taxpayer.objects.exclude(status=Taxpayer.Status.DEREGISTERED).order_by("pk")
    assessed: dict[Evaluation, Assessment] = {}
    after = 0
    while taxpayers := list(registered.filter(pk__gt=after).values_list("pk", "registered_on")[:chunk]):
        after = taxpayers[-1][0]
        rows, refused = _predict_chunk(taxpayers, year=year, today=today, now=now, assessed=assessed)
        _predictions_upsert(rows)
        predicted += len(rows)
        failed += refused
    return PredictionRun(year=year, predicted=predicted, failed=failed)


def credit_prediction_refresh(*, taxpayer_id: int, today: dt.date | None = None) -> bool:
    """Predict one taxpayer again, by the daily job's own path (a chunk of one): after a repair, 复核 or 复评
    decision changed its rating, the 工作台's 现行 and predicted counts need not wait for the next morning.
    False when the taxpayer is deregistered (the daily job leaves it out too) or the rules refused its events."""
    today = today or timezone.localdate()
    taxpayer = (
        Taxpayer.objects.exclude(status=Taxpayer.Status.DEREGISTERED)
        .filter(pk=taxpayer_id)
        .values_list("pk", "registered_on")
        .first()
    )
    if taxpayer is None:
        return False
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows, _ = _predict_chunk([taxpayer], year=today.year, today=today, now=now, assessed={})
    _predictions_upsert(rows)
    return bool(rows)


def _predictions_upsert(rows: list[tuple]) -> None:
    """Write the chunk's rows (``PREDICTION_COLUMNS`` order) in one transaction, a multi-row INSERT … ON CONFLICT
    DO UPDATE per batch: a row per taxpayer and year, updated in place (its id kept) when it exists."""
    if not rows:
        return
    table = CreditPrediction._meta.db_table
    width = len(PREDICTION_COLUMNS)
    batch = min(1000, (connection.features.max_query_params or 1_000_000) // width)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in PREDICTION_COLUMNS[2:])
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(PREDICTION_COLUMNS)}) VALUES {values} "  # noqa: S608 - _meta only
                f"ON CONFLICT (taxpayer_id, year) DO UPDATE SET {updates}",
                [value for row in part for value in row],
            )


def _ratings_in_force(lo: int, hi: int, today: dt.date) -> dict[int, tuple]:
    """taxpayer id → (level, score, year) of the rating in force on ``today``: one statement for the chunk."""
    sql = rating_in_force_sql(today, where="taxpayer_id BETWEEN %(lo)s AND %(hi)s")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"lo": lo, "hi": hi})
        return {taxpayer_id: (level, score, year) for taxpayer_id, level, score, year, _, _ in cursor.fetchall()}


def _events_of_year(lo: int, hi: int, year: int, today: dt.date) -> dict[int, list[tuple]]:
    """taxpayer id → its event rows recorded in ``year`` up to ``today``, in record order: one statement."""
    events = defaultdict(list)
    for row in (
        DishonestyEvent.objects.filter(
            taxpayer_id__gte=lo, taxpayer_id__lte=hi, recorded_on__range=(dt.date(year, 1, 1), today)
        )
        .order_by("taxpayer_id", "recorded_on", "pk")
        .values_list("pk", "taxpayer_id", "indicator", "recorded_on", "tax", "amount", "corrected_on", "no_penalty")
    ):
        events[row[1]].append(row)
    return events


def _predict_chunk(
    taxpayers: list[tuple[int, dt.date]], *, year: int, today: dt.date, now, assessed: dict
) -> tuple[list[tuple], int]:
    """The predictions of the chunk's taxpayers ((id, registered_on), ascending ids) and how many were refused.

    ``assess`` is pure, and many taxpayers bring it the same inputs (no events and the same rating; a late return
    recorded the day after the same deadline): each evaluation's assessment is kept in ``assessed`` (emptied
    when it reaches ``ASSESSED_KEPT``) and shared."""
    lo, hi = taxpayers[0][0], taxpayers[-1][0]
    events = _events_of_year(lo, hi, year, today)
    ratings = _ratings_in_force(lo, hi, today)
    rows, refused = [], 0
    for taxpayer_id, registered_on in taxpayers:
        current, event_rows = ratings.get(taxpayer_id), events.get(taxpayer_id, ())
        evaluation = _evaluation(year, today, current, registered_on, event_rows)
        assessment = assessed.get(evaluation)
        if assessment is None:
            try:
                assessment = assess(evaluation)
            except CaseError:
                logger.warning("credit_prediction_refused", extra={"taxpayer_id": taxpayer_id, "year": year})
                refused += 1
                continue
            if len(assessed) >= ASSESSED_KEPT:
                assessed.clear()
            assessed[evaluation] = assessment
        rows.append(_prediction(taxpayer_id, year, current, assessment, event_rows, now))
    return rows, refused


def _evaluation(year: int, today: dt.date, current, registered_on, event_rows) -> Evaluation:
    previous_level = previous_d_kind = None
    if current is not None and current[2] == year - 1:
        previous_level = current[0]
        if previous_level == "D":
            previous_d_kind = "score" if current[1] is not None else "direct"
    first_matter = registered_on if registered_on and registered_on.year == year else None
    return Evaluation(
        year=year,
        as_of=today,
        taxpayer=TaxpayerFacts(
            first_tax_matter_date=first_matter, previous_level=previous_level, previous_d_kind=previous_d_kind
        ),
        events=tuple(
            Event(indicator, recorded_on, tax or None, amount, corrected_on, no_penalty)
            for _, _, indicator, recorded_on, tax, amount, corrected_on, no_penalty in event_rows
        ),
    )


def _prediction(taxpayer_id, year, current, assessment, event_rows, now) -> tuple:
    """One row of ``PREDICTION_COLUMNS``, its values adapted for the database (``now`` already is)."""
    open_ids = {}
    for pk, _, indicator, recorded_on, _, _, corrected_on, _ in event_rows:
        if corrected_on is None:
            open_ids.setdefault((indicator, recorded_on), pk)
    warnings = [
        {
            "indicator": w.indicator,
            "indicator_name": w.indicator_name,
            "recorded_on": w.recorded_on.isoformat(),
            "event_id": open_ids.get((w.indicator, w.recorded_on)),
            "points": str(w.points_at_stake),
            "deadline": w.deadline.isoformat() if w.deadline else None,
        }
        for w in assessment.warnings
    ]
    deadlines = [w.deadline for w in assessment.warnings if w.deadline is not None]
    ops = connection.ops
    return (
        taxpayer_id,
        year,
        current[0] if current else "",
        assessment.score,
        assessment.level,
        assessment.score_if_all_repaired_now,
        assessment.level_if_all_repaired_now,
        max(assessment.score_if_all_repaired_now - assessment.score, Decimal(0)),
        ops.adapt_datefield_value(min(deadlines)) if deadlines else None,
        len(open_ids),
        ops.adapt_json_value(warnings, None),
        now,
    )


# --- outreach ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsOutcome:
    enqueued: int
    unreachable: int
    skipped: int  # nothing left to text: every open behaviour already texted, or none with points at stake


def _templates() -> dict[str, MessageTemplate]:
    return {code: sendable_template(code, name=name) for code, name in TEMPLATE_NAMES.items()}


def credit_warning_sms_send(*, actor, predictions: list[CreditPrediction]) -> SmsOutcome:
    """Text each taxpayer about its open behaviour with the most points at stake that it has not been texted about
    (the template of its level: A/B at risk, C/D to repair). Keyed on the event: the outbox key and a unique
    contact row per event, so no behaviour is texted twice however often this runs."""
    templates = _templates()
    now = timezone.now()
    enqueued = unreachable = skipped = 0
    with transaction.atomic():
        # Two sends over the same taxpayers wait for each other, so the second sees the first's contacts.
        list(CreditPrediction.objects.select_for_update().filter(pk__in=[p.pk for p in predictions]).values("pk"))
        targets = sms_targets(predictions)
        for target in targets:
            if target.event_id is None:
                skipped += 1
                continue
            message, error = _enqueue(target, templates, actor, now)
            sent = message is not None and message.status not in ("failed", "cancelled")
            CreditContact.objects.create(
                taxpayer_id=target.prediction.taxpayer_id,
                kind=CreditContact.Kind.SMS,
                outcome=CreditContact.Outcome.SENT if sent else CreditContact.Outcome.NOT_SENT,
                note=error or (message.error_message if message is not None and not sent else ""),
                event_id=target.event_id,
                level=target.prediction.level,
                sms=message,
                officer=signed_in(actor),
                contacted_at=now,
            )
            enqueued += sent
            unreachable += not sent
        if enqueued or unreachable:
            record_event(
                actor=actor,
                verb="credit_warning_sms",
                object_type="credit.creditcontact",
                object_repr="纳税信用预警短信",
                summary=f"发送纳税信用预警短信：{enqueued} 户已进入发件箱，{unreachable} 户无法发送",
                changes={"enqueued": enqueued, "unreachable": unreachable},
            )
    return SmsOutcome(enqueued=enqueued, unreachable=unreachable, skipped=skipped)


def _enqueue(target: SmsTarget, templates, actor, now):
    if not target.mobile:
        return None, target.reason
    prediction, warning = target.prediction, target.warning
    taxpayer = prediction.taxpayer
    template = templates.get(TEMPLATE_FOR_LEVEL.get(prediction.current_level, TEMPLATE_OTHERWISE))
    variables = {
        "taxpayer_name": taxpayer.name,
        "recorded_on": warning["recorded_on"],
        "indicator_name": warning["indicator_name"],
        "points": warning["points"],
        "deadline": warning["deadline"] or "尽快",
        "branch_name": taxpayer.branch.name,
    }
    try:
        message = sms_enqueue(
            to=target.mobile,
            idempotency_key=f"credit-warning:event:{target.event_id}",
            template=template,
            variables=variables,
            related_object=taxpayer,
            related=f"纳税信用预警 {mask_identifier(taxpayer.identifier)}",
            actor=signed_in(actor),
            now=now,
        )
    except SmsRejected as exc:
        return None, exc.message[:200]
    return message, ""


def credit_contact_record(*, actor, taxpayer: Taxpayer, kind: str, outcome: str, note: str = "") -> CreditContact:
    """Record a call or a visit (上门辅导, repair coaching included) and its outcome; SMS go through the outbox."""
    if kind not in (CreditContact.Kind.CALL, CreditContact.Kind.VISIT):
        raise ApplicationError("短信请从预警名单发送；此处登记电话或上门辅导。", code="contact_kind")
    if outcome in (CreditContact.Outcome.SENT, CreditContact.Outcome.NOT_SENT):
        raise ApplicationError("请选择电话或上门辅导的结果。", code="contact_outcome")
    prediction = CreditPrediction.objects.filter(taxpayer=taxpayer).order_by("-year").first()
    with transaction.atomic():
        contact = CreditContact.objects.create(
            taxpayer=taxpayer,
            kind=kind,
            outcome=outcome,
            note=note[:500],
            level=prediction.level if prediction else "",
            officer=actor,
            contacted_at=timezone.now(),
        )
        record_event(
            actor=actor,
            verb="credit_contact",
            target=contact,
            summary=f"登记纳税信用{contact.get_kind_display()}：{contact.get_outcome_display()}"
            f"（{mask_identifier(taxpayer.identifier)}）",
        )
    return contact
