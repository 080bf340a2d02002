"""批量写入发票数据: many taxpayers' 发票汇总 and 供应商进项明细 at once, checked as the import checks them.

Why: the demo county (and a benchmark's province) brings hundreds of thousands of supplier rows, far too many for
the spreadsheet import. As ``taxpayers.bulk`` does for the registry, the caller hands over typed rows of taxpayers
already registered (by id), every row is checked against what the import holds its rows to, then everything is
written fast — COPY on PostgreSQL, the driver's ``executemany`` elsewhere — in one transaction with one audit
event: all or nothing.

What is checked (the database's constraints hold on top of it): a period from 2019-01 to last month, once per
taxpayer (summary) or per taxpayer and supplier (supplier rows); amounts at least 0 and within a money column,
the abnormal and lost-control input tax within the month's input tax; a valid supplier identifier and a name;
the supplier's registration date not in the future and not after the month; a known status, its start date
given unless 正常, not before registration and not in the future. Amounts are integer fen.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import record_event
from core.periods import Period

from .bulk import (
    MAX_PROBLEMS,
    MONEY_LIMIT_FEN,
    NULL,
    BulkRowsRefused,
    _chunks,
    _constraints,
    _copy,
    _insert_many,
    fen_to_text,
)
from .imports.cells import EARLIEST_PERIOD
from .models import InvoiceSummary, SupplierInput, SupplierStatus
from .validators import validate_taxpayer_id

CHUNK_TAXPAYERS = 1000


class SummaryRow(NamedTuple):
    """One 发票汇总 row: money in fen."""

    period: str
    input_amount: int
    input_tax: int
    abnormal_voucher_input_tax: int
    lost_control_input_tax: int


class SupplierRow(NamedTuple):
    """One 供应商进项明细 row: money in fen; ``status_since`` None for 正常."""

    period: str
    supplier_identifier: str
    supplier_name: str
    supplier_registered_on: dt.date
    supplier_status: str
    supplier_status_since: dt.date | None
    input_amount: int
    input_tax: int


@dataclass
class TaxpayerInvoices:
    """One registered taxpayer's invoice rows."""

    taxpayer_id: int
    summaries: list[SummaryRow]
    suppliers: list[SupplierRow]


@dataclass(frozen=True)
class InvoiceLoadResult:
    taxpayers: int
    summaries: int
    supplier_rows: int
    seconds: float


class _Checker:
    def __init__(self, today: dt.date) -> None:
        self.today = today
        last = Period.of(today).minus(1)
        self.periods = {str(EARLIEST_PERIOD.plus(n)) for n in range(last.months_after(EARLIEST_PERIOD) + 1)}
        self.latest_registration = {period: min(today, Period.parse(period).last_day) for period in self.periods}
        self.identifiers: dict[str, bool] = {}
        self.problems: list[str] = []

    def check(self, chunk: list[TaxpayerInvoices]) -> None:
        for item in chunk:
            where = f"纳税人 {item.taxpayer_id}："
            self.problems.extend(where + p for p in _summary_problems(item.summaries, self.periods))
            self.problems.extend(where + p for p in self._supplier_problems(item.suppliers))
        if self.problems:
            raise BulkRowsRefused(self.problems[:MAX_PROBLEMS])

    def identifier_ok(self, identifier: str) -> bool:
        if identifier not in self.identifiers:
            try:
                self.identifiers[identifier] = validate_taxpayer_id(identifier) == identifier
            except ValidationError:
                self.identifiers[identifier] = False
        return self.identifiers[identifier]

    def _supplier_problems(self, rows: list[SupplierRow]) -> Iterator[str]:
        seen: set[tuple[str, str]] = set()
        for row in rows:
            where = f"{row.period} 供应商 {row.supplier_identifier}"
            if row.period not in self.periods:
                yield f"{where} 所属期不在 {EARLIEST_PERIOD} 到上月之间"
                continue
            if (row.period, row.supplier_identifier) in seen:
                yield f"{where} 重复"
            seen.add((row.period, row.supplier_identifier))
            if not self.identifier_ok(row.supplier_identifier):
                yield f"{where} 识别号无效"
            if not row.supplier_name or len(row.supplier_name) > 200:
                yield f"{where} 名称应为 1 到 200 个字符"
            if row.supplier_registered_on > self.latest_registration[row.period]:
                yield f"{where} 登记日期晚于所属期或今天"
            yield from _status_problems(where, row, self.today)
            if not (0 <= row.input_amount < MONEY_LIMIT_FEN and 0 <= row.input_tax < MONEY_LIMIT_FEN):
                yield f"{where} 金额无效"


SUPPLIER_STATUSES = frozenset(SupplierStatus.values)  # the enum's ``values`` builds a new list at every call


def _status_problems(where: str, row: SupplierRow, today: dt.date) -> Iterator[str]:
    since = row.supplier_status_since
    if row.supplier_status not in SUPPLIER_STATUSES:
        yield f"{where} 状态“{row.supplier_status}”不是可选的值"
    elif row.supplier_status != SupplierStatus.NORMAL and since is None:
        yield f"{where} 缺少状态起始日期"
    if since is not None and not row.supplier_registered_on <= since <= today:
        yield f"{where} 状态起始日期早于登记日期或晚于今天"


def _summary_problems(rows: list[SummaryRow], periods: set[str]) -> Iterator[str]:
    seen: set[str] = set()
    for row in rows:
        if row.period not in periods:
            yield f"发票汇总所属期“{row.period}”不在 {EARLIEST_PERIOD} 到上月之间"
        if row.period in seen:
            yield f"发票汇总所属期“{row.period}”重复"
        seen.add(row.period)
        amounts = row[1:]
        if min(amounts) < 0 or max(amounts) >= MONEY_LIMIT_FEN:
            yield f"{row.period} 发票汇总有负数或超出上限的金额"
        elif max(row.abnormal_voucher_input_tax, row.lost_control_input_tax) > row.input_tax:
            yield f"{row.period} 异常凭证或失控发票进项税额大于进项税额"


_SUMMARY_COLUMNS = ["taxpayer_id", "period", "input_amount", "input_tax", "abnormal_voucher_input_tax",
                    "lost_control_input_tax", "created_at", "updated_at"]  # fmt: skip
_SUPPLIER_COLUMNS = ["taxpayer_id", "period", "supplier_identifier", "supplier_name", "supplier_registered_on",
                     "supplier_status", "supplier_status_since", "input_amount", "input_tax", "created_at",
                     "updated_at"]  # fmt: skip


def _rows(chunk: list[TaxpayerInvoices], stamp, null) -> tuple[list[list], list[list]]:
    summaries = [
        [item.taxpayer_id, row.period, *map(fen_to_text, row[1:]), stamp, stamp]
        for item in chunk
        for row in item.summaries
    ]
    suppliers = [
        [item.taxpayer_id, row.period, row.supplier_identifier, row.supplier_name,
         row.supplier_registered_on.isoformat(), row.supplier_status,
         null if row.supplier_status_since is None else row.supplier_status_since.isoformat(),
         fen_to_text(row.input_amount), fen_to_text(row.input_tax), stamp, stamp]
        for item in chunk
        for row in item.suppliers
    ]  # fmt: skip
    return summaries, suppliers


def _write(chunk: list[TaxpayerInvoices]) -> tuple[int, int]:
    if connection.vendor == "postgresql":
        summaries, suppliers = _rows(chunk, timezone.now().isoformat(), NULL)
        with connection.cursor() as cursor:
            _copy(cursor, InvoiceSummary, _SUMMARY_COLUMNS, summaries)
            _copy(cursor, SupplierInput, _SUPPLIER_COLUMNS, suppliers)
    else:
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        summaries, suppliers = _rows(chunk, stamp, None)
        with connection.cursor() as cursor:
            _insert_many(cursor, InvoiceSummary, _SUMMARY_COLUMNS, summaries)
            _insert_many(cursor, SupplierInput, _SUPPLIER_COLUMNS, suppliers)
    return len(summaries), len(suppliers)


def invoices_bulk_load(*, items: Iterable[TaxpayerInvoices], today: dt.date) -> InvoiceLoadResult:
    """Check and write the invoice rows of registered taxpayers in one transaction; ``BulkRowsRefused`` (nothing
    written) on the first chunk with a problem. ``today`` bounds the periods and dates as the import's day does."""
    started = time.perf_counter()
    taxpayers = summaries = suppliers = 0
    with transaction.atomic():
        _constraints("IMMEDIATE")
        checker = _Checker(today)
        for chunk in _chunks(items, CHUNK_TAXPAYERS):
            checker.check(chunk)
            written = _write(chunk)
            taxpayers, summaries, suppliers = taxpayers + len(chunk), summaries + written[0], suppliers + written[1]
        _constraints("DEFERRED")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (InvoiceSummary, SupplierInput):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        record_event(
            actor=None,
            verb="invoices_bulk_load",
            object_type="taxpayers.invoicesummary",
            object_repr="批量写入发票数据",
            summary=f"批量写入 {taxpayers:,} 户纳税人的发票汇总 {summaries:,} 条、供应商进项明细 {suppliers:,} 条",
            changes={"taxpayers": taxpayers, "rows": summaries + suppliers},
        )
    return InvoiceLoadResult(taxpayers, summaries, suppliers, time.perf_counter() - started)
