"""Writes of the credit warnings: the daily predictions (set-based, chunked by taxpayer id, an idempotent upsert)
and one taxpayer's after a decision changed its rating, the warning SMS through the outbox (never twice for the same
behaviour) and the contacts the officer records.

The prediction reads, per chunk of taxpayers, the events recorded in the evaluation year in one query and the
ratings in force in one query, then calls ``credit.rules.assess`` in memory once per distinct set of inputs
(taxpayers without events, or with the same behaviours on the same days, share one assessment), and writes the
chunk with COPY and one INSERT … ON CONFLICT that leaves unchanged predictions alone: a bounded number of
statements whatever the number of taxpayers, and the next day's job writes only what moved.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
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

from ..models import CreditContact, CreditPrediction
from ..repairs.services import non_normal_spells_track
from ..rules import Assessment, CaseError, CreditWarning, Evaluation, Event, TaxpayerFacts, assess
from ..services import late_returns_derive
from .selectors import SmsTarget, events_of_year, ratings_in_force, related_d_in_year, sms_targets

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
    written: int = 0  # rows inserted or changed (an unchanged prediction is not written again)


def credit_warnings_daily(*, today: dt.date | None = None) -> PredictionRun:
    """The daily job: follow the 非正常户 status (a lifting repairs without application where the rules say so),
    derive the late returns from the returns held, then predict every taxpayer's rating."""
    today = today or timezone.localdate()
    non_normal_spells_track(today=today)
    late_returns_derive(today=today)
    return credit_predictions_refresh(today=today)


def credit_predictions_refresh(*, today: dt.date | None = None, chunk: int = 20_000) -> PredictionRun:
    """Predict the current evaluation year (the calendar year of ``today``) for every taxpayer still registered;
    one row per taxpayer and year, upserted: running it again gives the same rows.

    Taxpayers are read ``chunk`` at a time in id order (keyset: the next chunk starts after the last id), each
    chunk with one statement for its events and one for its ratings in force, assessed in memory and written
    in one upsert: the statements grow with the chunks, never with the taxpayers' events."""
    today = today or timezone.localdate()
    year = today.year
    predicted = failed = written = 0
    now = timezone.now()
    registered = Taxpayer.objects.exclude(status=Taxpayer.Status.DEREGISTERED).order_by("pk")
    assessed: dict[tuple, _Predicted | None] = {}
    after = 0
    while taxpayers := list(registered.filter(pk__gt=after).values_list("pk", "registered_on")[:chunk]):
        after = taxpayers[-1][0]
        rows, refused = _predict_chunk(taxpayers, year=year, today=today, assessed=assessed)
        written += _predictions_upsert(rows, now)
        predicted += len(rows)
        failed += refused
    return PredictionRun(year=year, predicted=predicted, failed=failed, written=written)


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
    rows, _ = _predict_chunk([taxpayer], year=today.year, today=today, assessed={})
    _predictions_upsert(rows, timezone.now())
    return bool(rows)


def _predict_chunk(
    taxpayers: list[tuple[int, dt.date]], *, year: int, today: dt.date, assessed: dict
) -> tuple[list[tuple], int]:
    """The rows of the chunk's taxpayers ((id, registered_on), ascending ids; ``PREDICTION_COLUMNS`` but
    ``computed_at``, the warnings as JSON text) and how many were refused.

    ``assess`` is pure, and many taxpayers bring it the same inputs (no events and the same rating; a late return
    recorded the day after the same deadline): keyed on those inputs as read (``_inputs_key``), each assessment's
    part of the row is kept in ``assessed`` (emptied when it reaches ``ASSESSED_KEPT``) and shared; the event
    ids, the count of open events and the current level are each taxpayer's own."""
    lo, hi = taxpayers[0][0], taxpayers[-1][0]
    events = events_of_year(lo, hi, year, today)
    ratings = ratings_in_force(lo, hi, today)
    related = related_d_in_year(lo, hi, year - 1)
    rows, refused = [], 0
    for taxpayer_id, registered_on in taxpayers:
        current, event_rows = ratings.get(taxpayer_id), events.get(taxpayer_id, ())
        key = _inputs_key(year, current, registered_on, event_rows, related=taxpayer_id in related)
        if key in assessed:
            predicted = assessed[key]
        else:
            predicted = _assessed(key, year, today)
            if len(assessed) >= ASSESSED_KEPT:
                assessed.clear()
            assessed[key] = predicted
        if predicted is None:
            logger.warning("credit_prediction_refused", extra={"taxpayer_id": taxpayer_id, "year": year})
            refused += 1
            continue
        rows.append(predicted.row(taxpayer_id, year, current, event_rows))
    return rows, refused


def _inputs_key(year: int, current, registered_on, event_rows, *, related: bool = False) -> tuple:
    """Everything ``assess`` reads for one taxpayer, as plain values: (previous level, previous D's kind, first
    tax matter, the events without their ids). Two taxpayers with the same key get the same assessment.
    ``related``: last year holds a related-D record, so a direct D of last year was the related one."""
    previous_level = previous_d_kind = None
    if current is not None and current[2] == year - 1:
        previous_level = current[0]
        if previous_level == "D":
            previous_d_kind = "score" if current[1] is not None else ("related" if related else "direct")
    first_matter = registered_on if registered_on and registered_on.year == year else None
    return previous_level, previous_d_kind, first_matter, tuple(row[1:] for row in event_rows)


def _assessed(key: tuple, year: int, today: dt.date) -> _Predicted | None:
    """The rules' assessment of ``key``'s inputs as the shared part of a row; None when the rules refuse them."""
    previous_level, previous_d_kind, first_matter, events = key
    evaluation = Evaluation(
        year=year,
        as_of=today,
        taxpayer=TaxpayerFacts(
            first_tax_matter_date=first_matter, previous_level=previous_level, previous_d_kind=previous_d_kind
        ),
        events=tuple(
            Event(indicator, recorded_on, tax or None, amount, corrected_on, no_penalty)
            for indicator, recorded_on, tax, amount, corrected_on, no_penalty in events
        ),
    )
    try:
        assessment = assess(evaluation)
    except CaseError:
        return None
    return _Predicted.of(assessment)


@dataclass(frozen=True)
class _Predicted:
    """The part of a prediction row that follows from the assessment alone, the warnings as JSON text in two
    pieces each, around the id of the taxpayer's own open event (the same text ``json.dumps`` writes)."""

    values: tuple  # score, level, score_if_repaired, level_if_repaired, points_at_stake, deadline
    warnings: tuple[tuple[str, dt.date, str, str], ...]  # indicator, record date, JSON before and after the id

    @classmethod
    def of(cls, assessment: Assessment) -> _Predicted:
        deadlines = [w.deadline for w in assessment.warnings if w.deadline is not None]
        values = (
            assessment.score,
            assessment.level,
            assessment.score_if_all_repaired_now,
            assessment.level_if_all_repaired_now,
            max(assessment.score_if_all_repaired_now - assessment.score, Decimal(0)),
            min(deadlines) if deadlines else None,
        )
        warnings = tuple((w.indicator, w.recorded_on, *_warning_json(w)) for w in assessment.warnings)
        return cls(values, warnings)

    def row(self, taxpayer_id: int, year: int, current, event_rows) -> tuple:
        """The taxpayer's row: its id, the current level, its open events (the first of each indicator and record
        date named in the warning) and the shared values."""
        open_ids = {}
        for pk, indicator, recorded_on, _, _, corrected_on, _ in event_rows:
            if corrected_on is None:
                open_ids.setdefault((indicator, recorded_on), pk)
        warnings = ", ".join(
            before + str(open_ids.get((indicator, recorded_on), "null")) + after
            for indicator, recorded_on, before, after in self.warnings
        )
        return (taxpayer_id, year, current[0] if current else "", *self.values, len(open_ids), f"[{warnings}]")


def _warning_json(warning: CreditWarning) -> tuple[str, str]:
    """A warning's JSON object in the two pieces around its event id: indicator, name and record date; then the
    points at stake and the deadline (each piece kept: the same few come back for many taxpayers)."""
    return _warning_head(warning.indicator, warning.indicator_name, warning.recorded_on), _warning_tail(
        str(warning.points_at_stake), warning.deadline
    )


@functools.lru_cache(maxsize=4096)
def _warning_head(indicator: str, name: str, recorded_on: dt.date) -> str:
    head = {"indicator": indicator, "indicator_name": name, "recorded_on": recorded_on.isoformat()}
    return json.dumps(head)[:-1] + ', "event_id": '


@functools.lru_cache(maxsize=4096)
def _warning_tail(points: str, deadline: dt.date | None) -> str:
    """(The points as text: equal Decimals may print differently.)"""
    return ", " + json.dumps({"points": points, "deadline": deadline.isoformat() if deadline else None})[1:]


def _predictions_upsert(rows: list[tuple], now: dt.datetime) -> int:
    """Write the chunk's rows in one transaction, a row per taxpayer and year, updated in place (its id kept)
    when it exists and its prediction changed: on PostgreSQL COPY into a temporary table and one INSERT … ON
    CONFLICT DO UPDATE from it, elsewhere a multi-row INSERT … ON CONFLICT DO UPDATE per batch."""
    if not rows:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _copy_upsert(cursor, rows, now)
        return _values_upsert(cursor, rows, now)


UPSERT_SET = ", ".join(f"{name} = EXCLUDED.{name}" for name in PREDICTION_COLUMNS[2:])
# A row whose prediction is unchanged is left as it is (the next day's job writes only what moved): its
# ``computed_at`` says when the prediction last changed.
UPSERT_SET += " WHERE " + " OR ".join(
    f"{CreditPrediction._meta.db_table}.{name} IS DISTINCT FROM EXCLUDED.{name}" for name in PREDICTION_COLUMNS[2:-1]
)
BATCH_TABLE = "credit_prediction_batch"


def _copy_upsert(cursor, rows: list[tuple], now: dt.datetime) -> int:
    table, columns = CreditPrediction._meta.db_table, PREDICTION_COLUMNS[:-1]
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {BATCH_TABLE} ON COMMIT DELETE ROWS AS "  # noqa: S608 - _meta only
        f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {BATCH_TABLE}")
    text = "".join("\t".join(_copy_text(value) for value in row) + "\n" for row in rows)
    cursor.copy_expert(f"COPY {BATCH_TABLE} ({', '.join(columns)}) FROM STDIN", io.StringIO(text))
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(PREDICTION_COLUMNS)}) SELECT {', '.join(columns)}, %s "  # noqa: S608
        f"FROM {BATCH_TABLE} ON CONFLICT (taxpayer_id, year) DO UPDATE SET {UPSERT_SET}",
        [now],
    )
    return cursor.rowcount


def _copy_text(value) -> str:
    """A value in COPY's text format: NULL is \\N, a backslash doubled (JSON text escapes its own controls)."""
    if value is None:
        return "\\N"
    return value.replace("\\", "\\\\") if isinstance(value, str) else str(value)


def _values_upsert(cursor, rows: list[tuple], now: dt.datetime) -> int:
    ops, width = connection.ops, len(PREDICTION_COLUMNS)
    now = ops.adapt_datetimefield_value(now)
    batch = min(1000, (connection.features.max_query_params or 1_000_000) // width)
    written = 0
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(part))
        cursor.execute(
            f"INSERT INTO {CreditPrediction._meta.db_table} ({', '.join(PREDICTION_COLUMNS)}) "  # noqa: S608
            f"VALUES {values} ON CONFLICT (taxpayer_id, year) DO UPDATE SET {UPSERT_SET}",
            [v for row in part for v in (*row[:8], ops.adapt_datefield_value(row[8]), *row[9:], now)],
        )
        written += cursor.rowcount
    return written


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
