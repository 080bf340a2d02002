"""专精特新 and 创新型中小企业 flags (工业和信息化部 认定) on the registry: reading the flags file and writing it.

The file names registered taxpayers by 纳税人识别号 and carries 专精特新企业 and/or 创新型中小企业 as 是/否.
A column left out of the file leaves that flag as it is; an empty cell is 否. The credit section imports it
(bank–tax promotion puts these taxpayers first) through its own page, which applies it all or nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from core.cells import ReadContext, boolean
from core.spreadsheets import Column, FileCheck, HeaderMap, RowError, SheetSpec, read_sheet

from .imports import parse_identifier, refuse_unknown_taxpayers
from .models import Taxpayer

FLAG_FIELDS = ("is_specialized_sme", "is_innovative_sme")


def _at_least_one_flag(header: HeaderMap) -> None:
    if header.row and not any(name in header.positions for name in FLAG_FIELDS):
        header.errors.append(
            RowError(header.row, "", "", "缺少标识列：至少应有“专精特新企业”或“创新型中小企业”中的一列。")
        )


FLAGS_SPEC = SheetSpec(
    columns=(
        Column(
            "identifier",
            "纳税人识别号",
            parse_identifier,
            True,
            aliases=("统一社会信用代码", "社会信用代码"),
            text=True,
        ),
        Column("is_specialized_sme", "专精特新企业", boolean, blank=False, aliases=("专精特新", "是否专精特新")),
        Column(
            "is_innovative_sme",
            "创新型中小企业",
            boolean,
            blank=False,
            aliases=("创新型中小", "是否创新型中小企业"),
        ),
    ),
    ignored=("序号", "纳税人名称", "主管税务机关", "认定年度", "备注"),
    not_found_hint="，请使用导入模板。",
    missing_hint="，请使用导入模板的表头。",
    max_rows=50_000,
    check_header=_at_least_one_flag,
)


def read_flags(fh, filename: str, *, today: dt.date | None = None) -> FileCheck[dict]:
    """Check every row (identifier known and not repeated, 是/否 cells); writes nothing."""
    sheet = read_sheet(fh, filename, FLAGS_SPEC, context=ReadContext(today or timezone.localdate()))
    seen: dict[str, int] = {}
    for row in sheet.rows:
        first = seen.setdefault(row.values["identifier"], row.row)
        if first != row.row:
            row.fail("identifier", row.values["identifier"], f"与第 {first} 行的纳税人识别号重复，同一文件中不能重复。")
    known = refuse_unknown_taxpayers([row for row in sheet.rows if not row.errors])
    rows = []
    for row in sheet.settle():
        values = {name: row.values[name] for name in FLAG_FIELDS if name in row.values}
        rows.append({"taxpayer_id": known[row.values["identifier"]], **values})
    return FileCheck.of(sheet, rows)


def taxpayer_flags_apply(*, rows: list[dict]) -> tuple[int, int]:
    """Write the checked flags; returns (updated, unchanged). Runs inside the caller's transaction, which
    records the import and its audit event (the taxpayers' own ``updated_at`` moves only where a flag changed)."""
    current = {
        row["id"]: row
        for row in Taxpayer.objects.filter(pk__in=[r["taxpayer_id"] for r in rows]).values("id", *FLAG_FIELDS)
    }
    changed: list[Taxpayer] = []
    for row in rows:
        before = current[row["taxpayer_id"]]
        values = {name: value for name, value in row.items() if name in FLAG_FIELDS and before[name] != value}
        if values:
            flags = {name: values.get(name, before[name]) for name in FLAG_FIELDS}
            changed.append(Taxpayer(id=row["taxpayer_id"], **flags))
    now = timezone.now()
    for taxpayer in changed:
        taxpayer.updated_at = now
    Taxpayer.objects.bulk_update(changed, [*FLAG_FIELDS, "updated_at"], batch_size=500)
    return len(changed), len(rows) - len(changed)
