"""批量写入: many taxpayers with their VAT returns and compliance records at once, checked as the import checks.

Why: a registry generated or migrated whole (the demo county, a benchmark's million taxpayers) is far too big
for the spreadsheet import (``services.import_job_run``: a stored file, a job, every cell parsed from text).
This is the registry's bulk path: the caller hands over typed rows, every row is checked against the rules the
import holds its checked values to (below), then everything is written fast — COPY on PostgreSQL, the driver's
``executemany`` or ``bulk_create`` elsewhere — in one transaction, with one audit event: all or nothing.

What is checked (the database's constraints hold on top of it):

- taxpayer: a valid identifier (GB 32100-2015 check character), once in the load; a name; a 税务分局 or the
  bureau as 主管税务机关, never a section; a GB/T 4754-2017 industry code; registration dates not in the future
  and the 一般纳税人 date not before registration; values among each field's choices; valid mobiles; texts
  within their lengths; counts and amounts within their ranges;
- return: a period from 2019-01 to last month (a quarterly filer: a quarter's last month), once per taxpayer;
  a filing date not in the future; every amount at least 0 and within a money column; sales by industry
  under valid industry codes;
- compliance record: a known kind, a date not in the future, a document number once per kind, an amount of
  at least 0 (or none).

Amounts are integer fen (分): exact, and cheap to check and to write at a million taxpayers; ``fen_to_decimal``
and ``fen_to_text`` give yuan. Not done here: ``signals.import_applied`` (the apps above refresh what they
derive from returns when their own next step runs: the first screening, the ledger's morning check).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import Branch
from core.errors import ApplicationError
from core.periods import Period

from .imports.cells import EARLIEST_PERIOD
from .models import (
    RETURN_AMOUNT_FIELDS,
    ComplianceRecord,
    EnterpriseSize,
    SizeIndustry,
    Taxpayer,
    VatReturn,
)
from .validators import validate_industry_code, validate_mobile, validate_taxpayer_id

RETURN_FIELDS = ("period", "filed_on", "sales_total", "sales_by_industry", *RETURN_AMOUNT_FIELDS[1:])
ReturnRow = namedtuple("ReturnRow", RETURN_FIELDS)
ReturnRow.__doc__ = "One VAT return in ``RETURN_FIELDS`` order: money in fen, sales by industry {code: fen}."
TAXPAYER_MONEY_FIELDS = ("prev_year_vat_sales", "total_assets_prev_year_end")
MONEY_LIMIT_FEN = 10**16  # MoneyField: 16 digits, 2 of them decimals
CHUNK_TAXPAYERS = 1000  # taxpayers per round trip; their returns go in the same chunk
BULK_BATCH_SIZE = 2000  # bulk_create batch (Django lowers it to SQLite's parameter limit)
MAX_PROBLEMS = 100
NULL = r"\N"

Progress = Callable[[int], None]


@dataclass
class TaxpayerBundle:
    """One taxpayer with its returns and compliance records, as the bulk path takes them.

    ``taxpayer``: every ``Taxpayer`` field but the id, the branch and the timestamps, with ``branch_code`` (the
    branch's code) and money in fen; ``returns``: ``ReturnRow``s; ``compliance``: ``ComplianceRecord`` field
    values (kind, occurred_on, document_number, amount in fen or None, note).
    """

    taxpayer: dict
    returns: list
    compliance: list


@dataclass(frozen=True)
class BulkLoadResult:
    taxpayers: int
    returns: int
    compliance_records: int
    method: str  # a key of LOADERS
    seconds: float


class BulkRowsRefused(ApplicationError):
    """Rows the import would refuse; nothing was written. ``problems``: one Chinese sentence each."""

    code = "bulk_rows_refused"

    def __init__(self, problems: list[str]):
        shown = "；".join(problems[:5]) + ("等" if len(problems) > 5 else "")
        message = f"批量写入未通过校验（{len(problems)} 处），未写入任何数据：{shown}"
        super().__init__(message, extra={"problems": problems})
        self.problems = problems


def fen_to_decimal(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen).scaleb(-2)


def fen_to_text(fen: int) -> str:
    """Yuan with two places (fast path of ``str(fen_to_decimal(fen))``)."""
    return f"{fen // 100}.{fen % 100:02d}" if fen else "0.00"


def sales_by_industry_text(value: dict) -> dict:
    """The stored JSON form: {industry code: "yuan.fen"}."""
    return {code: fen_to_text(fen) for code, fen in value.items()}


# --- the checks ------------------------------------------------------------------------------------------------


class _Checker:
    """Checks bundles chunk by chunk, remembering what must be unique across the whole load."""

    def __init__(self, *, today: dt.date, branches: dict[str, Branch]) -> None:
        self.today = today
        self.branches = branches
        last = Period.of(today).minus(1)
        self.periods = {str(EARLIEST_PERIOD.plus(n)) for n in range(last.months_after(EARLIEST_PERIOD) + 1)}
        self.identifiers: set[str] = set()
        self.industries: dict[str, bool] = {}
        self.problems: list[str] = []

    def check(self, bundles: list[TaxpayerBundle]) -> None:
        for bundle in bundles:
            where = str(bundle.taxpayer.get("identifier"))
            self._each(where, _taxpayer_problems(bundle.taxpayer, self))
            quarterly = bundle.taxpayer.get("filing_frequency") == Taxpayer.FilingFrequency.QUARTERLY
            self._each(where, _return_problems(bundle.returns, quarterly, self))
            self._each(where, _compliance_problems(bundle.compliance, self.today))
        if self.problems:
            raise BulkRowsRefused(self.problems[:MAX_PROBLEMS])

    def _each(self, where: str, problems: Iterable[str]) -> None:
        self.problems.extend(f"纳税人 {where}：{problem}" for problem in problems)

    def industry_ok(self, code) -> bool:
        if code not in self.industries:
            try:
                self.industries[code] = validate_industry_code(code) == code
            except ValidationError:
                self.industries[code] = False
        return self.industries[code]


def _message(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _choice(values: dict, name: str, choices, blank: bool) -> Iterator[str]:
    value = values.get(name)
    if not (value in choices or (blank and value == "")):
        yield f"{name}“{value}”不是可选的值"


def _taxpayer_problems(values: dict, checker: _Checker) -> Iterator[str]:
    missing = sorted(_TAXPAYER_KEYS - set(values))
    if missing:
        yield f"缺少字段 {', '.join(missing)}"
        return
    yield from _identity_problems(values, checker)
    yield from _date_problems(values, checker.today)
    for name, choices, blank in _TAXPAYER_CHOICES:
        yield from _choice(values, name, choices, blank)
    yield from _contact_problems(values)
    yield from _figure_problems(values, checker.today)


def _identity_problems(values: dict, checker: _Checker) -> Iterator[str]:
    identifier = values["identifier"]
    try:
        if validate_taxpayer_id(identifier) != identifier:
            yield f"纳税人识别号“{identifier}”应为大写、不含空格"
    except ValidationError as exc:
        yield _message(exc)
    if identifier in checker.identifiers:
        yield "纳税人识别号重复"
    checker.identifiers.add(identifier)
    if not values["name"] or len(values["name"]) > 200:
        yield "纳税人名称应为 1 到 200 个字符"
    branch = checker.branches.get(values["branch_code"])
    if branch is None or branch.kind == Branch.Kind.SECTION:
        yield f"主管税务机关“{values['branch_code']}”不存在或是股室"
    if not checker.industry_ok(values["industry_code"]):
        yield f"行业代码“{values['industry_code']}”不是有效的 GB/T 4754-2017 代码"


def _date_problems(values: dict, today: dt.date) -> Iterator[str]:
    registered, since = values["registered_on"], values["general_taxpayer_since"]
    if not isinstance(registered, dt.date) or registered > today:
        yield f"登记日期“{registered}”无效或晚于今天"
    elif since is not None and (not isinstance(since, dt.date) or since > today or since < registered):
        yield f"一般纳税人登记日期“{since}”无效、晚于今天或早于登记日期"


def _contact_problems(values: dict) -> Iterator[str]:
    for role in ("legal_rep", "finance_contact", "tax_handler"):
        name, mobile = values[f"{role}_name"], values[f"{role}_mobile"]
        if len(name) > 50:
            yield f"{role}_name 过长：最多 50 个字符"
        if mobile:
            try:
                validate_mobile(mobile)
            except ValidationError as exc:
                yield _message(exc)


def _figure_problems(values: dict, today: dt.date) -> Iterator[str]:
    for name, top in (("employees", 10_000_000), ("prev_year_months_operated", 12)):
        if values[name] is not None and not 0 <= values[name] <= top:
            yield f"{name} {values[name]} 应在 0 到 {top} 之间"
    for name in TAXPAYER_MONEY_FIELDS:
        if values[name] is not None and not 0 <= values[name] < MONEY_LIMIT_FEN:
            yield f"{name} {values[name]} 分不是有效金额"
    for name in ("is_export_enterprise", "is_key_taxpayer"):
        if not isinstance(values[name], bool):
            yield f"{name} 应为是或否"


def _return_problems(returns: list, quarterly: bool, checker: _Checker) -> Iterator[str]:
    seen: set[str] = set()
    for row in returns:
        if row.period not in checker.periods:
            yield f"所属期“{row.period}”不在 {EARLIEST_PERIOD} 到上月之间"
        elif quarterly and row.period[5:] not in ("03", "06", "09", "12"):
            yield f"按季申报，所属期“{row.period}”应为季度最后一个月"
        if row.period in seen:
            yield f"所属期“{row.period}”的申报表重复"
        seen.add(row.period)
        if row.filed_on is not None and row.filed_on > checker.today:
            yield f"{row.period} 申报日期晚于今天"
        amounts = (row.sales_total, *row[4:])
        if min(amounts) < 0 or max(amounts) >= MONEY_LIMIT_FEN:
            yield f"{row.period} 申报表有负数或超出上限的金额"
        for code, fen in row.sales_by_industry.items():
            if not checker.industry_ok(code) or not 0 <= fen < MONEY_LIMIT_FEN:
                yield f"{row.period} 分行业销售额“{code}”的行业代码或金额无效"


def _compliance_problems(records: list[dict], today: dt.date) -> Iterator[str]:
    seen: set[tuple] = set()
    for record in records:
        kind, number, amount = record["kind"], record["document_number"], record["amount"]
        if kind not in ComplianceRecord.Kind.values:
            yield f"涉税记录类型“{kind}”不是可选的值"
        if record["occurred_on"] > today:
            yield f"涉税记录 {number} 的发生日期晚于今天"
        if not number or len(number) > 100 or (kind, number) in seen:
            yield f"涉税记录文书号“{number}”为空、过长或重复"
        seen.add((kind, number))
        if amount is not None and not 0 <= amount < MONEY_LIMIT_FEN:
            yield f"涉税记录 {number} 的金额无效"
        if len(record["note"]) > 500:
            yield f"涉税记录 {number} 的备注过长"


# The 专精特新 / 创新型中小企业 flags come from the credit section's own file: a bundle may leave them out.
_OPTIONAL_TAXPAYER_KEYS = ("id", "branch", "created_at", "updated_at", "is_specialized_sme", "is_innovative_sme")
_TAXPAYER_KEYS = frozenset(
    {f.attname for f in Taxpayer._meta.concrete_fields if f.name not in _OPTIONAL_TAXPAYER_KEYS} | {"branch_code"}
)
_TAXPAYER_CHOICES = (
    ("status", Taxpayer.Status.values, False),
    ("filing_frequency", Taxpayer.FilingFrequency.values, False),
    ("size", EnterpriseSize.values, True),
    ("size_industry", SizeIndustry.values, True),
)


# --- the loaders -----------------------------------------------------------------------------------------------


def _taxpayer_values(bundle: TaxpayerBundle, branch_ids: dict[str, int]) -> dict:
    values = dict(bundle.taxpayer)
    values["branch_id"] = branch_ids[values.pop("branch_code")]
    for name in TAXPAYER_MONEY_FIELDS:
        values[name] = fen_to_decimal(values[name])
    return values


def _bulk_create_taxpayers(bundles: list[TaxpayerBundle], branch_ids: dict[str, int]) -> list[int]:
    created = Taxpayer.objects.bulk_create(
        [Taxpayer(**_taxpayer_values(bundle, branch_ids)) for bundle in bundles], batch_size=BULK_BATCH_SIZE
    )
    return [taxpayer.pk for taxpayer in created]


def load_with_bulk_create(bundles: list[TaxpayerBundle], branch_ids: dict[str, int]) -> tuple[int, int]:
    """One chunk through the ORM only; returns (returns, compliance records) inserted.

    Portable but slow (about 0.2 ms a return on SQLite, Django preparing every field): the reference the faster
    loaders are compared with.
    """
    ids = _bulk_create_taxpayers(bundles, branch_ids)
    returns, records = [], []
    money = set(RETURN_AMOUNT_FIELDS)
    for pk, bundle in zip(ids, bundles, strict=True):
        for row in bundle.returns:
            values = {
                name: (fen_to_decimal(value) if name in money else value)
                for name, value in zip(RETURN_FIELDS, row, strict=True)
            }
            values["sales_by_industry"] = sales_by_industry_text(row.sales_by_industry)
            returns.append(VatReturn(taxpayer_id=pk, **values))
        for record in bundle.compliance:
            records.append(ComplianceRecord(taxpayer_id=pk, **{**record, "amount": fen_to_decimal(record["amount"])}))
    VatReturn.objects.bulk_create(returns, batch_size=BULK_BATCH_SIZE)
    ComplianceRecord.objects.bulk_create(records, batch_size=BULK_BATCH_SIZE)
    return len(returns), len(records)


_RECORD_COLUMNS = [
    "taxpayer_id", "kind", "occurred_on", "document_number", "amount", "note", "created_at", "updated_at",
]  # fmt: skip


def _record_rows(ids: list[int], bundles: list[TaxpayerBundle], fen: Callable, null, stamp) -> list[list]:
    return [
        [pk, c["kind"], c["occurred_on"].isoformat(), c["document_number"],
         null if c["amount"] is None else fen(c["amount"]), c["note"], stamp, stamp]
        for pk, bundle in zip(ids, bundles, strict=True)
        for c in bundle.compliance
    ]  # fmt: skip


def load_with_executemany(bundles: list[TaxpayerBundle], branch_ids: dict[str, int]) -> tuple[int, int]:
    """One chunk: taxpayers by ``bulk_create`` (for their ids), returns and records by one parameterised INSERT run
    with the driver's ``executemany`` — the SQLite default, ten times faster than ``bulk_create`` there. Values are
    what Django itself would send for each field.
    """
    ids = _bulk_create_taxpayers(bundles, branch_ids)
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    return_rows = [
        [pk, r.period, r.filed_on.isoformat(), fen_to_text(r.sales_total),
         json.dumps(sales_by_industry_text(r.sales_by_industry)), *map(fen_to_text, r[4:]), stamp, stamp]
        for pk, bundle in zip(ids, bundles, strict=True)
        for r in bundle.returns
    ]  # fmt: skip
    record_rows = _record_rows(ids, bundles, fen_to_text, None, stamp)
    with connection.cursor() as cursor:
        _insert_many(cursor, VatReturn, ["taxpayer_id", *_return_columns(), "created_at", "updated_at"], return_rows)
        _insert_many(cursor, ComplianceRecord, _RECORD_COLUMNS, record_rows)
    return len(return_rows), len(record_rows)


def _insert_many(cursor, model, columns: list[str], rows: list[list]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name  # names come from the models, values go as parameters
    names = ", ".join(quote(c) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({placeholders})", rows)  # noqa: S608


def _copy(cursor, model, columns: list[str], rows: Iterable) -> None:
    """COPY ``rows`` into ``model``'s table through an in-memory CSV buffer (NULL is ``\\N``)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
    )
    cursor.copy_expert(sql, buffer, 1 << 20)  # 1 MiB reads (positional: Django's debug cursor)


def _copy_text(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _fen(value: int | None) -> str:
    """Fen as a PostgreSQL numeric literal: ``12345e-2`` is exactly 123.45 (cheaper to format than yuan)."""
    return NULL if value is None else f"{value}e-2"


def _copy_taxpayers(cursor, bundles: list[TaxpayerBundle], branch_ids: dict[str, int], stamp: str) -> list[int]:
    """COPY the taxpayers, their ids taken from the table's sequence first (so the returns can name them)."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [Taxpayer._meta.db_table, len(bundles)],
    )
    ids = [row[0] for row in cursor.fetchall()]
    fields = list(Taxpayer._meta.concrete_fields)
    money = set(TAXPAYER_MONEY_FIELDS)
    rows = []
    for pk, bundle in zip(ids, bundles, strict=True):
        values = dict(bundle.taxpayer, id=pk, branch_id=branch_ids[bundle.taxpayer["branch_code"]])
        values["created_at"] = values["updated_at"] = stamp
        rows.append(
            [
                _fen(values[f.attname]) if f.name in money else _copy_text(values.get(f.attname, f.get_default()))
                for f in fields
            ]
        )
    _copy(cursor, Taxpayer, [f.column for f in fields], rows)
    return ids


def load_with_copy(bundles: list[TaxpayerBundle], branch_ids: dict[str, int]) -> tuple[int, int]:
    """One chunk with PostgreSQL COPY; returns (returns, compliance records) inserted."""
    stamp = timezone.now().isoformat()
    with connection.cursor() as cursor:
        ids = _copy_taxpayers(cursor, bundles, branch_ids, stamp)

        def return_rows():  # streamed into the buffer: a chunk's rows are never all in memory as lists
            for pk, bundle in zip(ids, bundles, strict=True):
                for r in bundle.returns:
                    by_industry = (
                        json.dumps(sales_by_industry_text(r.sales_by_industry), ensure_ascii=False)
                        if r.sales_by_industry
                        else "{}"
                    )
                    yield (pk, r.period, r.filed_on.isoformat(), _fen(r.sales_total), by_industry,
                           *map(_fen, r[4:]), stamp, stamp)  # fmt: skip

        _copy(cursor, VatReturn, ["taxpayer_id", *_return_columns(), "created_at", "updated_at"], return_rows())
        record_rows = _record_rows(ids, bundles, _fen, NULL, stamp)
        _copy(cursor, ComplianceRecord, _RECORD_COLUMNS, record_rows)
    return sum(len(bundle.returns) for bundle in bundles), len(record_rows)


def _return_columns() -> list[str]:
    return [VatReturn._meta.get_field(name).column for name in RETURN_FIELDS]


LOADERS = {"copy": load_with_copy, "executemany": load_with_executemany, "bulk_create": load_with_bulk_create}


def default_method() -> str:
    return "copy" if connection.vendor == "postgresql" else "executemany"


# --- the bulk path ---------------------------------------------------------------------------------------------


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _constraints(mode: str) -> None:
    """PostgreSQL only. Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: deferred, every inserted row would
    queue its check in memory until commit (gigabytes at a million taxpayers); immediate, each COPY checks its own
    rows when it ends. Back to DEFERRED afterwards, Django's default for the rest of an enclosing transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS ALL {mode}")


def taxpayers_bulk_load(
    *,
    bundles: Iterable[TaxpayerBundle],
    today: dt.date,
    method: str | None = None,
    progress: Progress | None = None,
) -> BulkLoadResult:
    """Check and write ``bundles`` (new taxpayers with their returns and records) in one transaction.

    ``today`` bounds the dates and periods as the import's day does; ``method`` is a key of ``LOADERS`` (default:
    COPY on PostgreSQL, ``executemany`` elsewhere); ``progress(done)`` is told the taxpayers written after each
    chunk of ``CHUNK_TAXPAYERS``. Raises ``BulkRowsRefused`` (nothing written) on the first chunk with a problem.
    """
    method = method or default_method()
    if method == "copy" and connection.vendor != "postgresql":
        raise ApplicationError("COPY 导入只适用于 PostgreSQL。")
    loader = LOADERS[method]
    started = time.perf_counter()
    returns = records = done = 0
    with transaction.atomic():
        _constraints("IMMEDIATE")
        branches = {branch.code: branch for branch in Branch.objects.all()}
        branch_ids = {code: branch.pk for code, branch in branches.items()}
        checker = _Checker(today=today, branches=branches)
        for chunk in _chunks(bundles, CHUNK_TAXPAYERS):
            checker.check(chunk)
            loaded = loader(chunk, branch_ids)
            returns, records, done = returns + loaded[0], records + loaded[1], done + len(chunk)
            if progress:
                progress(done)
        _constraints("DEFERRED")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics for the first queries on the new rows
                for model in (Taxpayer, VatReturn, ComplianceRecord):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        record_event(
            actor=None,
            verb="taxpayers_bulk_load",
            object_type="taxpayers.taxpayer",
            object_repr="批量写入纳税人",
            summary=f"批量写入纳税人 {done:,} 户，增值税申报 {returns:,} 条，涉税记录 {records:,} 条",
            changes={"created": done, "rows": returns + records},
        )
    return BulkLoadResult(done, returns, records, method, time.perf_counter() - started)


def taxpayers_bulk_delete(*, branch_codes: Iterable[str]) -> int:
    """Delete the taxpayers of the given branches with their returns and records; the rows deleted.

    Refused (``ApplicationError``, nothing deleted) when other business data refers to one of them.
    """
    with transaction.atomic():
        taxpayers = Taxpayer.objects.filter(branch__code__in=list(branch_codes))
        count = taxpayers.count()
        # Returns and records first: a plain DELETE each, instead of collecting millions of rows.
        deleted = VatReturn.objects.filter(taxpayer__in=taxpayers).delete()[0]
        deleted += ComplianceRecord.objects.filter(taxpayer__in=taxpayers).delete()[0]
        try:
            with transaction.atomic():
                deleted += taxpayers.delete()[0]
        except ProtectedError as exc:
            raise ApplicationError("纳税人已被其他业务数据引用，无法删除。", code="taxpayers_referenced") from exc
        record_event(
            actor=None,
            verb="taxpayers_bulk_delete",
            object_type="taxpayers.taxpayer",
            object_repr="批量删除纳税人",
            summary=f"批量删除纳税人 {count:,} 户及其申报和涉税记录（共 {deleted:,} 行）",
            changes={"count": count, "rows": deleted},
        )
    return deleted
