"""The cells of the taxpayers' imports that know the registry: identifiers, mobiles, industries, branches, the
taxpayer a row names, the return's period and its sales by industry. The generic parsers are ``core.cells``.

Every parser has the shape ``parse(cell, ctx) -> value`` with ``ctx`` an ``ImportContext``, and raises
``CellError`` with the Chinese reason.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from django.core.exceptions import ValidationError

from accounts.models import Branch
from core.cells import Cell, CellError, money, period_cell, strip_text_markers, text_cell
from core.periods import Period
from core.spreadsheets import CheckedRow

from ..models import Taxpayer
from ..validators import validate_industry_code, validate_mobile, validate_taxpayer_id

# The refund policy starts with the 2019 reform; older returns are never needed and usually a typo.
EARLIEST_PERIOD = Period(2019, 1)


class TaxpayerRef(NamedTuple):
    id: int
    filing_frequency: str


class ImportContext:
    """What the rows of one file share (a ``core.cells.ReadContext`` with lookups): today, the branches, and
    the taxpayers the file names, fetched a chunk of rows at a time."""

    def __init__(self, *, today: dt.date):
        self.today = today
        self.current_period = Period.of(today)
        self._branches: tuple[dict, dict] | None = None
        self.taxpayers: dict[str, TaxpayerRef | None] = {}
        self.taxpayers_by_id: dict[int, TaxpayerRef] = {}

    def branch_maps(self) -> tuple[dict[str, Branch], dict[str, list[Branch]]]:
        if self._branches is None:
            by_code: dict[str, Branch] = {}
            by_name: dict[str, list[Branch]] = {}
            for branch in Branch.objects.all():
                by_code[branch.code.upper()] = branch
                by_name.setdefault(branch.name, []).append(branch)
            self._branches = (by_code, by_name)
        return self._branches

    def prefetch_taxpayers(self, identifiers) -> None:
        wanted = {code for code in identifiers if code and code not in self.taxpayers}
        if not wanted:
            return
        for ref_id, code, frequency in Taxpayer.objects.filter(identifier__in=wanted).values_list(
            "id", "identifier", "filing_frequency"
        ):
            self.taxpayers[code] = self.taxpayers_by_id[ref_id] = TaxpayerRef(ref_id, frequency)
            wanted.discard(code)
        for code in wanted:
            self.taxpayers[code] = None


def identifier_key(cell: Cell) -> str:
    """An identifier cell as the registry stores it, without checking it (to fetch a chunk's taxpayers at once)."""
    return re.sub(r"\s+", "", strip_text_markers(cell.text)).upper()


def taxpayer_ids_by_identifier(identifiers: list[str]) -> dict[str, int]:
    """identifier → id of the known taxpayers among ``identifiers`` (unscoped: a file names taxpayers of any
    branch, and its importer's permission is checked by the caller), 1,000 per query."""
    found: dict[str, int] = {}
    for start in range(0, len(identifiers), 1000):
        chunk = identifiers[start : start + 1000]
        found.update(Taxpayer.objects.filter(identifier__in=chunk).values_list("identifier", "id"))
    return found


def _validated(validate, value: str) -> str:
    try:
        return validate(value)
    except ValidationError as exc:
        raise CellError(exc.messages[0] if exc.messages else "格式不正确。") from exc


def parse_identifier(cell: Cell, ctx=None) -> str:
    """A 纳税人识别号, normalised and checked (``validate_taxpayer_id``)."""
    return _validated(validate_taxpayer_id, text_cell(cell))


def parse_taxpayer_ref(cell: Cell, ctx: ImportContext) -> int:
    """The id of the registered taxpayer the identifier names."""
    code = parse_identifier(cell, ctx)
    ctx.prefetch_taxpayers([code])  # normally already fetched for the whole chunk
    ref = ctx.taxpayers.get(code)
    if ref is None:
        raise CellError(f"纳税人识别号“{code}”在系统中不存在，请先导入该纳税人的登记信息。")
    return ref.id


def parse_mobile(cell: Cell, ctx=None) -> str:
    return _validated(validate_mobile, text_cell(cell))


def parse_industry(cell: Cell, ctx=None) -> str:
    return _validated(validate_industry_code, text_cell(cell))


def parse_branch(cell: Cell, ctx: ImportContext) -> int:
    """A 主管税务机关 by its code or its full name; a section (股室) is no tax authority."""
    by_code, by_name = ctx.branch_maps()
    text = cell.text
    branch = by_code.get(text.upper())
    if branch is None:
        candidates = by_name.get(text, [])
        if len(candidates) > 1:
            raise CellError("有多个机构同名，请改填机构编码。")
        branch = candidates[0] if candidates else None
    if branch is None:
        raise CellError("系统中没有这个主管税务机关，请填写机构编码或机构全称（见系统管理中的机构列表）。")
    if branch.kind == Branch.Kind.SECTION:
        raise CellError(f"“{branch.name}”是股室，不能作为主管税务机关，请填写税务分局或税务局。")
    return branch.pk


def parse_period(cell: Cell, ctx: ImportContext) -> Period:
    """A return's 税款所属期: from 2019 on, and already over."""
    period = period_cell(cell)
    if period < EARLIEST_PERIOD:
        raise CellError(f"所属期早于 {EARLIEST_PERIOD}：留抵退税只需要 2019 年以来的申报表，请核对。")
    if period >= ctx.current_period:
        raise CellError(f"所属期尚未结束（今天是 {ctx.today:%Y-%m-%d}），不能导入当期或将来所属期的申报表。")
    return period


def parse_sales_by_industry(cell: Cell, ctx=None) -> dict[str, str]:
    """``C3411=6000000.00;F5123=4000000.00`` → ``{"C3411": "6000000.00", "F5123": "4000000.00"}``."""
    result: dict[str, str] = {}
    for part in re.split(r"[;；\n]+", cell.text):
        part = part.strip()
        if not part:
            continue
        pieces = re.split(r"[=:：]", part, maxsplit=1)
        if len(pieces) != 2:
            raise CellError(
                f"“{part}”格式不正确，应为“行业代码=金额”，多个之间用分号分隔，如 C3411=6000000.00;F5123=4000000.00。"
            )
        code = _validated(validate_industry_code, pieces[0].strip())
        try:
            amount = money(Cell(pieces[1].strip(), pieces[1]))
        except CellError as exc:
            raise CellError(f"行业 {code} 的金额：{exc}") from exc
        if code in result:
            raise CellError(f"行业代码 {code} 出现了两次。")
        result[code] = f"{amount:.2f}"
    return result


def refuse_unknown_taxpayers(rows: list[CheckedRow], attr: str = "identifier") -> dict[str, int]:
    """identifier → taxpayer id for the identifiers the checked ``rows`` hold in ``attr``; a row naming a
    taxpayer not in the registry gets its error."""
    known = taxpayer_ids_by_identifier([row.values[attr] for row in rows])
    for row in rows:
        identifier = row.values[attr]
        if identifier not in known:
            reason = f"纳税人识别号“{identifier}”在系统中不存在，请核对，或先导入该纳税人的登记信息。"
            row.fail(attr, identifier, reason)
    return known
