"""``python manage.py seed_demo``: load the demo county of ``taxpayers/demo.py`` into the database.

Loads in one transaction: the bureau, its sections and branches, one demo login per role,
then the taxpayers with their returns and compliance records in chunks of a thousand
taxpayers. Three loaders take the same plain rows and store the same data:

- ``copy`` (PostgreSQL default): COPY from an in-memory CSV buffer — a million taxpayers
  for the benchmarks;
- ``executemany`` (SQLite default, the embedded demo): taxpayers by ``bulk_create``, their
  returns by one parameterised INSERT through the driver's ``executemany``;
- ``bulk_create``: the ORM alone — portable, but ``bulk_create`` of 236,000 returns takes
  about a minute on SQLite (Django prepares every field of every row), so it is the
  reference the tests compare the others with, not a default.

Refuses to touch a database that already has taxpayers, unless ``--if-empty`` (skip, for
``make demo``) or ``--replace`` (delete the demo county's taxpayers first).
"""

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import Branch, User
from taxpayers import demo
from taxpayers.models import ComplianceRecord, Taxpayer, VatReturn

CHUNK_TAXPAYERS = 1000  # taxpayers per round trip; their returns go in the same chunk
BULK_BATCH_SIZE = 2000  # bulk_create batch (Django lowers it to SQLite's parameter limit)
NULL = r"\N"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SeedResult:
    taxpayers: int
    returns: int
    compliance_records: int
    users: int
    method: str  # a key of LOADERS
    seconds: float


# --- organisation and users ----------------------------------------------------------------


def ensure_org(branches: int) -> dict[str, Branch]:
    """The demo bureau, sections and branches by code (created or brought back to the demo names)."""
    units: dict[str, Branch] = {}
    for unit in demo.org_units(branches):
        units[unit.code], _ = Branch.objects.update_or_create(
            code=unit.code,
            defaults={
                "name": unit.name,
                "kind": unit.kind,
                "parent": units.get(unit.parent_code) if unit.parent_code else None,
                "sort_order": unit.sort_order,
            },
        )
    return units


def ensure_users(branches: int, units: dict[str, Branch]) -> list[User]:
    """One login per role with ``demo.DEMO_PASSWORD`` (set again when the user exists)."""
    users = []
    for spec in demo.demo_users(branches):
        user = User.objects.filter(username=spec.username).first() or User(username=spec.username)
        user.full_name = spec.full_name
        user.branch = units[spec.unit_code]
        user.mobile = spec.mobile
        user.is_active = True
        user.is_staff = spec.is_staff
        user.set_password(demo.DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=spec.role)])
        users.append(user)
    return users


def demo_data_exists() -> bool:
    return Taxpayer.objects.exists()


def delete_demo_data() -> int:
    """Delete the demo county's taxpayers (those of the demo branches) with their returns and records."""
    codes = [unit.code for unit in demo.branch_units(demo.MAX_BRANCHES)]
    taxpayers = Taxpayer.objects.filter(branch__code__in=codes)
    # Returns and records first: a plain DELETE each, instead of collecting millions of rows.
    deleted = VatReturn.objects.filter(taxpayer__in=taxpayers).delete()[0]
    deleted += ComplianceRecord.objects.filter(taxpayer__in=taxpayers).delete()[0]
    try:
        deleted += taxpayers.delete()[0]
    except ProtectedError as exc:
        raise CommandError("演示纳税人已被其他业务数据引用，无法替换；请换用新的数据库后重新生成。") from exc
    return deleted


# --- the loaders -----------------------------------------------------------------------------


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _taxpayer_values(item: demo.DemoTaxpayer, branch_ids: dict[str, int]) -> dict:
    values = dict(item.taxpayer)
    values["branch_id"] = branch_ids[values.pop("branch_code")]
    for name in demo.TAXPAYER_MONEY_FIELDS:
        values[name] = demo.fen_to_decimal(values[name])
    return values


def _bulk_create_taxpayers(items: list[demo.DemoTaxpayer], branch_ids: dict[str, int]) -> list[int]:
    created = Taxpayer.objects.bulk_create(
        [Taxpayer(**_taxpayer_values(item, branch_ids)) for item in items], batch_size=BULK_BATCH_SIZE
    )
    return [taxpayer.pk for taxpayer in created]


def load_with_bulk_create(items: list[demo.DemoTaxpayer], branch_ids: dict[str, int]) -> tuple[int, int]:
    """Insert one chunk through the ORM only; returns (returns, compliance records) inserted.

    Portable but slow (about 0.2 ms a return on SQLite, Django preparing every field): the
    reference the faster loaders are compared with.
    """
    ids = _bulk_create_taxpayers(items, branch_ids)
    returns, records = [], []
    money = set(demo.RETURN_MONEY_FIELDS)
    for pk, item in zip(ids, items, strict=True):
        for row in item.returns:
            values = {
                name: (demo.fen_to_decimal(value) if name in money else value)
                for name, value in zip(demo.RETURN_FIELDS, row, strict=True)
            }
            values["sales_by_industry"] = demo.sales_by_industry_text(row.sales_by_industry)
            returns.append(VatReturn(taxpayer_id=pk, **values))
        for record in item.compliance:
            records.append(
                ComplianceRecord(taxpayer_id=pk, **{**record, "amount": demo.fen_to_decimal(record["amount"])})
            )
    VatReturn.objects.bulk_create(returns, batch_size=BULK_BATCH_SIZE)
    ComplianceRecord.objects.bulk_create(records, batch_size=BULK_BATCH_SIZE)
    return len(returns), len(records)


_RECORD_COLUMNS = [
    "taxpayer_id", "kind", "occurred_on", "document_number", "amount", "note", "created_at", "updated_at",
]  # fmt: skip


def load_with_executemany(items: list[demo.DemoTaxpayer], branch_ids: dict[str, int]) -> tuple[int, int]:
    """Insert one chunk: taxpayers by ``bulk_create`` (for their ids), returns and records by one
    parameterised INSERT run with the driver's ``executemany`` — the SQLite default, ten times
    faster than ``bulk_create`` there. Values are what Django itself would send for each field.
    """
    ids = _bulk_create_taxpayers(items, branch_ids)
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    fen, by_industry = demo.fen_to_text, demo.sales_by_industry_text
    return_rows = [
        [pk, r.period, r.filed_on.isoformat(), fen(r.sales_total), json.dumps(by_industry(r.sales_by_industry)),
         *map(fen, r[4:]), stamp, stamp]
        for pk, item in zip(ids, items, strict=True)
        for r in item.returns
    ]  # fmt: skip
    record_rows = [
        [pk, c["kind"], c["occurred_on"].isoformat(), c["document_number"],
         None if c["amount"] is None else fen(c["amount"]), c["note"], stamp, stamp]
        for pk, item in zip(ids, items, strict=True)
        for c in item.compliance
    ]  # fmt: skip
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


def _fen(value: int) -> str:
    """Fen as a PostgreSQL numeric literal: ``12345e-2`` is exactly 123.45 (cheaper to format than yuan)."""
    return f"{value}e-2"


def load_with_copy(items: list[demo.DemoTaxpayer], branch_ids: dict[str, int]) -> tuple[int, int]:
    """Insert one chunk with PostgreSQL COPY; returns (returns, compliance records) inserted.

    Taxpayer ids are taken from the table's sequence first, so the returns can name them.
    """
    stamp = timezone.now().isoformat()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Taxpayer._meta.db_table, len(items)],
        )
        ids = [row[0] for row in cursor.fetchall()]

        fields = list(Taxpayer._meta.concrete_fields)
        money = set(demo.TAXPAYER_MONEY_FIELDS)
        taxpayer_rows = []
        for pk, item in zip(ids, items, strict=True):
            values = dict(item.taxpayer, id=pk, branch_id=branch_ids[item.taxpayer["branch_code"]])
            values["created_at"] = values["updated_at"] = stamp
            row = []
            for f in fields:
                value = values[f.attname]
                row.append(_fen(value) if f.name in money and value is not None else _copy_text(value))
            taxpayer_rows.append(row)
        _copy(cursor, Taxpayer, [f.column for f in fields], taxpayer_rows)

        def return_rows():  # streamed into the buffer: a chunk's rows are never all in memory as lists
            stamps = (stamp, stamp)  # created_at, updated_at
            for pk, item in zip(ids, items, strict=True):
                for r in item.returns:
                    by_industry = (
                        json.dumps(demo.sales_by_industry_text(r.sales_by_industry), ensure_ascii=False)
                        if r.sales_by_industry
                        else "{}"
                    )
                    yield (pk, r.period, r.filed_on.isoformat(), _fen(r.sales_total), by_industry,
                           *map(_fen, r[4:]), *stamps)  # fmt: skip

        _copy(cursor, VatReturn, ["taxpayer_id", *_return_columns(), "created_at", "updated_at"], return_rows())

        record_rows = [
            [pk, c["kind"], c["occurred_on"].isoformat(), c["document_number"],
             NULL if c["amount"] is None else _fen(c["amount"]), c["note"], stamp, stamp]
            for pk, item in zip(ids, items, strict=True)
            for c in item.compliance
        ]  # fmt: skip
        _copy(cursor, ComplianceRecord, _RECORD_COLUMNS, record_rows)
    return sum(len(item.returns) for item in items), len(record_rows)


def _return_columns() -> list[str]:
    return [VatReturn._meta.get_field(name).column for name in demo.RETURN_FIELDS]


LOADERS = {"copy": load_with_copy, "executemany": load_with_executemany, "bulk_create": load_with_bulk_create}


def default_method() -> str:
    return "copy" if connection.vendor == "postgresql" else "executemany"


def seed_demo_county(
    params: demo.DemoParams, *, method: str | None = None, progress: Progress | None = None
) -> SeedResult:
    """Create the demo county in one transaction and return what was loaded."""
    method = method or default_method()
    if method == "copy" and connection.vendor != "postgresql":
        raise CommandError("COPY 导入只适用于 PostgreSQL。")
    loader = LOADERS[method]
    started = time.perf_counter()
    returns = records = done = 0
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgresql:
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: deferred, every inserted row
            # would queue its check in memory until commit (gigabytes at a million taxpayers).
            # Immediate, each COPY checks its own rows when it ends.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        units = ensure_org(params.branches)
        users = ensure_users(params.branches, units)
        branch_ids = {code: unit.pk for code, unit in units.items()}
        for chunk in _chunks(demo.generate(params), CHUNK_TAXPAYERS):
            loaded = loader(chunk, branch_ids)
            returns += loaded[0]
            records += loaded[1]
            done += len(chunk)
            if progress:
                progress(done, params.taxpayers)
        if postgresql:
            with connection.cursor() as cursor:
                # Back to Django's default for the rest of an enclosing transaction (tests), and
                # fresh statistics for the first queries on the new rows.
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for model in (Taxpayer, VatReturn, ComplianceRecord):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        record_event(
            actor=None,
            verb="demo_seeded",
            object_type="taxpayers.demo",
            object_repr="示范县演示数据",
            summary=(
                f"生成演示数据：纳税人 {done:,} 户，增值税申报 {returns:,} 条，涉税记录 {records:,} 条"
                f"（随机种子 {params.seed}，所属期截至 {demo.last_period(params.today)}）"
            ),
        )
    return SeedResult(done, returns, records, len(users), method, time.perf_counter() - started)


# --- the command -----------------------------------------------------------------------------


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today “{value}” 不是有效日期，应为 YYYY-MM-DD。") from exc


class Command(BaseCommand):
    help = "生成示范县演示数据（确定性：同一 --seed 生成同样的数据）：纳税人、增值税申报、涉税记录和各岗位演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--taxpayers", type=int, default=3000, help="一般纳税人户数（默认 3000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")
        parser.add_argument("--today", type=_date, default=None, help="以此日期为“今天”（YYYY-MM-DD，默认当天）")
        parser.add_argument("--branches", type=int, default=5, help="税务分局个数（默认 5）")
        parser.add_argument("--if-empty", action="store_true", help="已有数据时跳过（make demo 用）")
        parser.add_argument("--replace", action="store_true", help="先删除示范县演示纳税人，再重新生成")
        parser.add_argument(
            "--method", choices=["auto", *LOADERS], default="auto", help="导入方式（默认 PostgreSQL 用 COPY）"
        )

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        if today < dt.date(2019, 5, 1):
            raise CommandError("--today 应晚于 2019-04（申报数据从 2019-03 所属期开始）。")
        if options["taxpayers"] < 1:
            raise CommandError("--taxpayers 应为正整数。")
        if not 1 <= options["branches"] <= demo.MAX_BRANCHES:
            raise CommandError(f"--branches 应在 1 到 {demo.MAX_BRANCHES} 之间。")

        replace = False
        if demo_data_exists():
            count = Taxpayer.objects.count()
            if options["if_empty"]:
                self.stdout.write(f"数据库中已有纳税人数据（{count:,} 户），跳过生成演示数据。")
                return
            if not options["replace"]:
                raise CommandError(
                    f"数据库中已有纳税人数据（{count:,} 户），未生成演示数据。"
                    "要跳过请加 --if-empty；要删除示范县演示数据后重新生成请加 --replace。"
                )
            replace = True

        params = demo.DemoParams(
            taxpayers=options["taxpayers"], seed=options["seed"], today=today, branches=options["branches"]
        )
        step = max(params.taxpayers // 10, CHUNK_TAXPAYERS)

        def progress(done: int, total: int) -> None:
            if total >= 20 * CHUNK_TAXPAYERS and (done % step < CHUNK_TAXPAYERS or done == total):
                self.stdout.write(f"  已生成 {done:,}/{total:,} 户")

        method = None if options["method"] == "auto" else options["method"]
        with transaction.atomic():  # a failed reseed leaves the old demo data in place
            if replace:
                deleted = delete_demo_data()
                self.stdout.write(f"已删除示范县演示数据（{deleted:,} 行）。")
            result = seed_demo_county(params, method=method, progress=progress)
        label = {"copy": "COPY", "executemany": "批量 INSERT"}.get(result.method, result.method)
        self.stdout.write(
            self.style.SUCCESS(
                f"示范县演示数据已生成：纳税人 {result.taxpayers:,} 户，增值税申报 {result.returns:,} 条，"
                f"涉税记录 {result.compliance_records:,} 条，演示账号 {result.users} 个"
                f"（seed={params.seed}，所属期 2019-03 至 {demo.last_period(today)}，"
                f"{label} 导入，用时 {result.seconds:.1f} 秒）。"
            )
        )
