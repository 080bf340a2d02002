"""Backfill of past dishonesty events (历史失信行为补录) by the thousand, held to the rules the events file is.

Why: a county's past records moved in at once, and the demo county's years, arrive as plain rows rather than as
a file to upload. ``services.credit_file_import`` reads a file, checks every row and applies it; this is the same
apply step for rows already in memory, with the same checks made before anything is written:

- the indicator exists in the table in force on the record date (``credit.rules.indicators``);
- the record date is not in the future, the correction date (if any) neither and not before the record date;
- an amount is not negative; a row's key (taxpayer, indicator, tax, record date) appears once, in the rows and in
  what is held.

Late VAT returns are not taken here: they are derived from the returns held (``services.late_returns_derive``).
All rows or none (``ApplicationError`` naming the first rows refused), one audit event per backfill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.audit import record_event
from core.errors import ApplicationError

from .locks import credit_data_lock
from .models import DishonestyEvent
from .rules.indicators import LATE_FILING, find_indicator, is_indicator_code
from .services import VAT

BATCH = 1000


@dataclass(frozen=True)
class PastEvent:
    taxpayer_id: int
    indicator: str
    recorded_on: dt.date
    tax: str = ""
    amount: Decimal | None = None
    corrected_on: dt.date | None = None
    no_penalty: bool = False
    note: str = ""


def _problems(row: PastEvent, today: dt.date) -> Iterable[str]:
    if not is_indicator_code(row.indicator) or find_indicator(row.indicator, row.recorded_on) is None:
        yield f"指标 {row.indicator} 在 {row.recorded_on:%Y-%m-%d} 适用的指标表中不存在"
    if row.indicator == LATE_FILING and row.tax == VAT:
        yield "增值税逾期申报由申报表推算，不补录"
    if row.recorded_on > today:
        yield "记录日期晚于今天"
    if row.corrected_on is not None and not row.recorded_on <= row.corrected_on <= today:
        yield "纠正日期应在记录日期与今天之间"
    if row.amount is not None and row.amount < 0:
        yield "涉及税款为负数"
    if len(row.tax) > 30 or len(row.note) > 200:
        yield "税种或备注过长"


def dishonesty_events_backfill(*, actor, rows: list[PastEvent], today: dt.date, description: str) -> int:
    """Write ``rows`` as imported events after checking each; returns how many were written."""
    refused = []
    seen: set[tuple] = set()
    for index, row in enumerate(rows, start=1):
        key = (row.taxpayer_id, row.indicator, row.tax, row.recorded_on)
        problems = list(_problems(row, today))
        if key in seen:
            problems.append("与前面的记录重复")
        seen.add(key)
        if problems:
            refused.append(f"第 {index} 条：{'，'.join(problems)}")
    if refused:
        raise ApplicationError(
            f"失信行为补录校验未通过（{len(refused)} 条）：" + "；".join(refused[:5]), code="credit_backfill_invalid"
        )
    with transaction.atomic():
        credit_data_lock()
        taxpayer_ids = {row.taxpayer_id for row in rows}
        held = set(
            DishonestyEvent.objects.filter(
                source=DishonestyEvent.Source.IMPORTED, taxpayer_id__in=taxpayer_ids
            ).values_list("taxpayer_id", "indicator", "tax", "recorded_on")
        )
        clashes = [row for row in rows if (row.taxpayer_id, row.indicator, row.tax, row.recorded_on) in held]
        if clashes:
            raise ApplicationError(
                f"有 {len(clashes)} 条失信行为已经存在，未补录任何记录。", code="credit_backfill_held"
            )
        DishonestyEvent.objects.bulk_create(
            (
                DishonestyEvent(
                    taxpayer_id=row.taxpayer_id,
                    indicator=row.indicator,
                    recorded_on=row.recorded_on,
                    tax=row.tax,
                    amount=row.amount,
                    corrected_on=row.corrected_on,
                    no_penalty=row.no_penalty,
                    note=row.note,
                    source=DishonestyEvent.Source.IMPORTED,
                )
                for row in rows
            ),
            batch_size=BATCH,
        )
        record_event(
            actor=actor,
            verb="dishonesty_events_backfill",
            object_type="credit.dishonestyevent",
            object_repr=description,
            summary=f"补录历史失信行为（{description}）：{len(rows):,} 条，涉及纳税人 {len(taxpayer_ids):,} 户",
            changes={"rows": len(rows), "taxpayers": len(taxpayer_ids)},
        )
    return len(rows)
