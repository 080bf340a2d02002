"""The one spreadsheet reader: every file the product imports (xlsx, or csv in UTF-8 or GBK) is read here.

An import declares its columns — the Chinese header and its other spellings, the cell parser, whether the
column is required — in a ``SheetSpec``; the reader finds the header row among the first rows (exports carry a
title above the table), maps the columns wherever they stand, skips blank rows, stops at the row limit and
parses every cell. Every problem becomes a ``RowError``: the spreadsheet row number, the header as the file
spells it, the value and a Chinese reason, so the officer can fix the file in Excel and upload it again.
A file is applied only when every row of it is right (all or nothing): ``read_sheet`` returns the good rows
and every error, and the import writes nothing while there is an error.

This module knows no business: the columns, the parsers that know one and what a row must satisfy beyond
its cells (``SheetSpec.check_row``) belong to each import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from .cells import CONTROL, Cell, CellError, cell_text, looks_numeric, plain_text

R = TypeVar("R")

# The header row may sit below a title row or two in the exports passed around.
HEADER_SEARCH_ROWS = 10
# Distinct cell texts remembered per column (the same period or identifier repeats on every row of a file).
MEMO_SIZE = 50_000
EXCERPT_CHARS = 200
"""An error report keeps this much of a cell or header: enough to find it, never a hostile file's megabytes."""

# What reading a damaged workbook's rows raises (the XML parser, the zip member, a bad cell value).
_BROKEN_WORKBOOK = (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, IndexError)


class FileFormatError(Exception):
    """The file cannot be read at all; ``message`` is for the user, ``code`` says why (an import that words
    it otherwise maps the code): ``extension``, ``xls``, ``workbook``, ``broken``, ``encoding``, ``csv``."""

    def __init__(self, message: str, *, code: str = "unreadable"):
        super().__init__(message)
        self.message = message
        self.code = code


def excerpt(value: str) -> str:
    # PostgreSQL stores no NUL in text or JSON; the other control characters are invisible to the reader.
    value = CONTROL.sub("\ufffd", str(value))
    if len(value) <= EXCERPT_CHARS:
        return value
    return f"{value[:EXCERPT_CHARS]}…（共 {len(value):,} 个字符）"


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number (the header is usually row 1); 0 for the whole file
    column: str  # the header as the file spells it; empty for a whole-row problem
    value: str
    reason: str

    def __post_init__(self):
        # Every report of every import is built from these: bound what a file can make us store and show.
        object.__setattr__(self, "column", excerpt(self.column))
        object.__setattr__(self, "value", excerpt(self.value))

    def as_dict(self) -> dict:
        return asdict(self)


def sort_errors(errors: list[RowError]) -> None:
    """In the order the officer walks the file: by row, then column."""
    errors.sort(key=lambda error: (error.row, error.column))


def normalise_header(value) -> str:
    """Headers compare without spaces, case, a leading required-star or a trailing hint like (元) or (是/否)."""
    value = re.sub(r"\s+", "", str(value or "")).replace("（", "(").replace("）", ")").strip("*")
    return re.sub(r"\([^()]*\)$", "", value).lower()


# --- the file: rows of raw cells ------------------------------------------------------------------------------


class Formula(str):
    """A formula cell of an xlsx read with ``RowSource(formulas=True)``: the text is the formula itself.

    Excel keeps a formula's last computed value beside it, and that cache can be stale or empty (a voucher
    number read as "0"); a sheet whose figures must be exactly what was typed refuses formulas."""


def file_format(filename: str) -> str:
    """``"xlsx"`` or ``"csv"`` from the file's name; anything else is refused."""
    ext = Path(filename).suffix.lower()
    if ext == ".xls":
        raise FileFormatError("不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 后再上传。", code="xls")
    if ext not in (".xlsx", ".csv"):
        raise FileFormatError("只支持 .xlsx 和 .csv 文件。", code="extension")
    return ext[1:]


def _binary(fh):
    """The underlying binary file of a Django ``File`` (csv and TextIOWrapper need real file methods)."""
    inner = fh
    while hasattr(inner, "file") and inner.file is not None and inner.file is not inner:
        inner = inner.file
    return inner


def _csv_encoding(fh) -> str:
    """UTF-8 with or without BOM, else GB18030 (what Excel in Chinese Windows saves as “CSV”)."""
    fh.seek(0)
    if fh.read(3) == codecs.BOM_UTF8:
        return "utf-8-sig"
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := fh.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _count_lines(fh) -> int:
    fh.seek(0)
    count, last = 0, b""
    while chunk := fh.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk
    return count + (1 if last and not last.endswith(b"\n") else 0)


class RowSource:
    """The rows of a file as ``(row_number, [raw cell, ...])``, read as they are needed (openpyxl read-only);
    ``estimated_rows`` for a progress bar. A file that cannot be read raises ``FileFormatError``.

    With ``formulas`` an xlsx formula cell comes as a ``Formula`` (its formula text) instead of its cached value."""

    def __init__(self, fh, filename: str, *, formulas: bool = False):
        self.formulas = formulas
        self.fh = _binary(fh)
        self.format = file_format(filename)
        self.estimated_rows = 0
        if self.format == "csv":
            self.encoding = _csv_encoding(self.fh)
            self.estimated_rows = _count_lines(self.fh)

    def __iter__(self) -> Iterator[tuple[int, list]]:
        if self.format == "csv":
            return self._csv_rows()
        return self._xlsx_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list]]:
        self.fh.seek(0)
        wrapper = io.TextIOWrapper(self.fh, encoding=self.encoding, newline="")
        number = 0
        try:
            for number, row in enumerate(csv.reader(wrapper), start=1):
                yield number, row
        except UnicodeDecodeError as exc:
            raise FileFormatError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件。", code="encoding") from exc
        except csv.Error as exc:
            # A field over the reader's limit, a NUL byte, an unclosed quote: the file is not a table.
            raise FileFormatError(
                f"CSV 文件第 {number + 1} 行格式有误（单元格过长、含有空字符或引号未闭合），"
                "请用 Excel 打开检查后另存为 CSV 或 .xlsx 再上传。",
                code="csv",
            ) from exc
        finally:
            wrapper.detach()  # leave the underlying file open for its owner

    def _xlsx_rows(self) -> Iterator[tuple[int, list]]:
        self.fh.seek(0)
        try:
            workbook = openpyxl.load_workbook(self.fh, read_only=True, data_only=not self.formulas)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise FileFormatError(
                "文件不是有效的 .xlsx 工作簿，请用 Excel 打开后“另存为” .xlsx 再上传。", code="workbook"
            ) from exc
        number = 0
        try:
            sheet = workbook.worksheets[0]
            self.estimated_rows = sheet.max_row or 0
            sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read to the real end
            if self.formulas:
                for number, row in enumerate(sheet.iter_rows(), start=1):
                    yield number, [Formula(c.value) if c.data_type == "f" else c.value for c in row]
            else:
                for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, list(row)
        except _BROKEN_WORKBOOK as exc:
            # The zip opened but a sheet's XML is cut off or not XML: nothing of it may be applied.
            raise FileFormatError(
                f"工作簿内容已损坏（读到第 {number + 1} 行时出错），请用 Excel 打开后“另存为” .xlsx 再上传。",
                code="broken",
            ) from exc
        finally:
            workbook.close()


# --- what an import declares ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    attr: str  # the key of the parsed value
    header: str  # the Chinese header of the import's template
    parse: Callable[[Cell, Any], Any] | None = plain_text  # None: read by ``check_row`` when it needs it
    required: bool = False  # the column must exist and every cell of it be filled
    blank: Any = ""  # the value of an empty cell in an optional column
    aliases: tuple[str, ...] = ()  # other spellings of the header
    text: bool = False  # identifiers, phones, codes: a number cell is reported as Excel shows it (9.14403E+17)

    def header_keys(self) -> set[str]:
        return {normalise_header(self.header), *(normalise_header(alias) for alias in self.aliases)}


@dataclass(frozen=True)
class Unique:
    """Rows may not repeat ``attrs``: the later row is refused with ``reason`` (``{row}``: the first row)."""

    attrs: tuple[str, ...]
    reason: str
    column: str = ""  # the column the error names; the first of ``attrs`` by default


@dataclass(frozen=True)
class SheetSpec:
    columns: tuple[Column, ...]
    marker: str = ""  # the column whose header marks the header row; the first column by default
    ignored: tuple[str, ...] = ()  # headers of columns the file may carry and the import does not need
    not_found_hint: str = "。"  # after “找不到表头：前 10 行中没有“…”列”
    missing_hint: str = "。"  # after “缺少必填列“…””
    search_rows: int = HEADER_SEARCH_ROWS
    max_rows: int | None = None
    unique: tuple[Unique, ...] = ()
    check_header: Callable[[HeaderMap], None] | None = None  # what the columns must satisfy beyond ``required``
    check_row: Callable[[CheckedRow, Any], None] | None = None  # what a row must satisfy beyond its cells
    refuse_formulas: str = ""  # the reason a formula cell is refused; formulas are read as values when empty

    @property
    def marker_column(self) -> Column:
        return next((c for c in self.columns if c.attr == self.marker), self.columns[0])

    def column(self, attr: str) -> Column:
        return next(c for c in self.columns if c.attr == attr)


# --- the header row -------------------------------------------------------------------------------------------


@dataclass
class HeaderMap:
    """Where each column stands: ``positions`` and ``headers`` (as the file spells them) by attribute."""

    row: int = 0  # the header's row number; 0 when there is none
    positions: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [f"以下列未识别，已忽略：{'、'.join(self.unknown)}"] if self.unknown else []

    @classmethod
    def positional(cls, columns: Iterable[Column]) -> HeaderMap:
        """A sheet without a header row: the columns in the declared order."""
        columns = list(columns)
        return cls(0, {c.attr: i for i, c in enumerate(columns)}, {c.attr: c.header for c in columns})


def map_header(number: int, row: list, spec: SheetSpec) -> HeaderMap:
    """The columns of ``row``: a column given twice is an error, an unknown one a warning, a missing required
    one an error."""
    by_key = {key: column for column in spec.columns for key in column.header_keys()}
    ignored = {normalise_header(text) for text in spec.ignored}
    header = HeaderMap(number)
    for index, raw in enumerate(row):
        key = normalise_header(cell_text(raw))
        if not key:
            continue
        column, written = by_key.get(key), cell_text(raw)
        if column is None:
            if key not in ignored:
                header.unknown.append(written)
        elif column.attr in header.positions:
            header.errors.append(RowError(number, written, written, f"列“{written}”出现了两次，请删除多余的一列。"))
        else:
            header.positions[column.attr], header.headers[column.attr] = index, written
    for column in spec.columns:
        if column.required and column.attr not in header.positions:
            reason = f"缺少必填列“{column.header}”{spec.missing_hint}"
            header.errors.append(RowError(number, column.header, "", reason))
    if spec.check_header is not None:
        spec.check_header(header)
    return header


def locate_header(rows: Iterator[tuple[int, list]], spec: SheetSpec) -> HeaderMap:
    """Read ``rows`` up to the header: the first of the first ``spec.search_rows`` rows holding the marker column."""
    marker = spec.marker_column
    keys = marker.header_keys()
    for seen, (number, row) in enumerate(rows, start=1):
        if any(normalise_header(cell_text(raw)) in keys for raw in row):
            return map_header(number, row, spec)
        if seen >= spec.search_rows:
            break
    reason = f"找不到表头：前 {spec.search_rows} 行中没有“{marker.header}”列{spec.not_found_hint}"
    return HeaderMap(errors=[RowError(1, marker.header, "", reason)])


# --- the rows -------------------------------------------------------------------------------------------------


def is_blank(row: list) -> bool:
    return all(cell_text(raw) == "" for raw in row)


@dataclass
class CheckedRow:
    """One data row: the parsed ``values`` by attribute (a column absent from the file is absent here too) and
    its ``errors``; an empty cell of an optional column holds the column's ``blank``."""

    row: int
    values: dict[str, Any]
    errors: list[RowError]
    reader: SheetReader = field(repr=False, compare=False)
    cells: list = field(repr=False, compare=False, default_factory=list)

    def has_column(self, attr: str) -> bool:
        return attr in self.reader.header.positions

    def cell(self, attr: str) -> Cell:
        """The cell of ``attr``'s column (blank when the column is absent or the row is short)."""
        raw = self.reader.raw(self.cells, attr)
        return Cell(cell_text(raw), raw)

    def fail(self, attr: str, value: str, reason: str) -> None:
        """An error in ``attr``'s column (its header as the file spells it; the attribute when absent)."""
        self.errors.append(RowError(self.row, self.reader.header.headers.get(attr, attr), value, reason))

    def read(self, attr: str, parse: Callable[[Cell, Any], Any], *, required: bool = False) -> Any:
        """Parse ``attr``'s cell now (for ``check_row``: a cell that matters only in some rows); the value, or
        None after recording the error."""
        if not self.has_column(attr):
            return None
        column = self.reader.spec.column(attr)
        once = Column(attr, column.header, parse, required, None, text=column.text)
        self.reader.parse_cell(self, once, {}, self.reader.raw(self.cells, attr))
        return self.values.get(attr)


class SheetReader:
    """One file read by one ``SheetSpec``: the header located on creation, then the data rows on demand.

    ``header`` may be given for a sheet without a header row (``HeaderMap.positional``). ``errors`` holds the
    header's errors and, once the rows are read, the row limit's."""

    def __init__(self, spec: SheetSpec, source: Iterable[tuple[int, list]], *, context=None, header=None):
        self.spec = spec
        self.context = context
        self._rows = iter(source)
        self.header: HeaderMap = header or locate_header(self._rows, spec)
        self.errors: list[RowError] = list(self.header.errors)
        at = self.header.positions
        self._present = [(c, at[c.attr], {}) for c in spec.columns if c.attr in at and c.parse is not None]
        self._seen: list[dict[tuple, int]] = [{} for _ in spec.unique]

    def data_rows(self) -> Iterator[tuple[int, list]]:
        """The rows below the header that hold anything, up to ``spec.max_rows`` (then an error, and no more)."""
        count = 0
        for number, row in self._rows:
            if is_blank(row):
                continue
            if self.spec.max_rows is not None and count >= self.spec.max_rows:
                self.errors.append(RowError(number, "", "", f"超过 {self.spec.max_rows} 行，请拆分后分批导入。"))
                return
            count += 1
            yield number, row

    def check(self, number: int, row: list) -> CheckedRow:
        """Parse every cell of the row, then ``spec.check_row``, then the ``spec.unique`` rules."""
        checked = CheckedRow(number, {}, [], self, row)
        width = len(row)
        for column, index, memo in self._present:
            self.parse_cell(checked, column, memo, row[index] if index < width else None)
        if self.spec.check_row is not None:
            self.spec.check_row(checked, self.context)
        for unique, seen in zip(self.spec.unique, self._seen, strict=True):
            key = tuple(map(checked.values.get, unique.attrs))
            if not all(key):
                continue
            first = seen.setdefault(key, number)
            if first != number:
                attr = unique.column or unique.attrs[0]
                checked.fail(attr, checked.cell(attr).text, unique.reason.format(row=first))
        return checked

    def raw(self, cells: list, attr: str):
        index = self.header.positions.get(attr)
        return cells[index] if index is not None and index < len(cells) else None

    def parse_cell(self, checked: CheckedRow, column: Column, memo: dict, raw) -> None:
        """Parse the cell ``raw`` of ``column`` into ``checked.values``, or record its error (``memo``: outcomes
        by text)."""
        text = isinstance(raw, str)
        value = raw.strip() if text else cell_text(raw)
        if text and self.spec.refuse_formulas and isinstance(raw, Formula):
            checked.fail(column.attr, value, self.spec.refuse_formulas)
            return
        if value == "":
            if column.required:
                checked.fail(column.attr, "", "必填项不能为空。")
            else:
                checked.values[column.attr] = dict(column.blank) if isinstance(column.blank, dict) else column.blank
            return
        # The same text parses the same way within one file, so a text cell is parsed once per distinct value.
        outcome = memo.get(value) if text else None
        if outcome is None:
            try:
                outcome = (True, column.parse(Cell(value, raw), self.context))
            except CellError as exc:
                outcome = (False, exc)
            if text:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                memo[value] = outcome
        ok, result = outcome
        if ok:
            checked.values[column.attr] = dict(result) if isinstance(result, dict) else result  # never a memo's dict
            return
        shown = result.shown
        if shown is None:
            shown = f"{raw:.6G}" if looks_numeric(raw) and column.text else value
        checked.fail(column.attr, shown, str(result))


# --- a whole file, all or nothing -----------------------------------------------------------------------------


@dataclass
class SheetCheck:
    """What ``read_sheet`` found: the rows without an error, and every error."""

    rows: list[CheckedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    header: HeaderMap = field(default_factory=HeaderMap)

    @property
    def headers(self) -> dict[str, str]:
        return self.header.headers

    @property
    def ok(self) -> bool:
        return not self.errors

    def settle(self) -> list[CheckedRow]:
        """After the import's own checks of the rows (``row.fail``: against the database, say): the rows that
        failed leave ``rows`` and their errors join ``errors``, in the order the officer walks the file."""
        failed = [row for row in self.rows if row.errors]
        self.rows = [row for row in self.rows if not row.errors]
        self.errors.extend(error for row in failed for error in row.errors)
        sort_errors(self.errors)
        return self.rows


@dataclass
class FileCheck(Generic[R]):
    """An import's verdict on a file: the rows it will write (in the import's own form) and every error. The
    file is applied only when ``ok``: all or nothing."""

    rows: list[R] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @classmethod
    def of(cls, sheet: SheetCheck, rows: list[R]) -> FileCheck[R]:
        return cls(rows, sheet.errors, sheet.warnings, sheet.headers)


def read_sheet(fh, filename: str, spec: SheetSpec, *, context=None) -> SheetCheck:
    """Read and check every row of the file; a file that cannot be read is one error on row 0, a file without
    data rows one below its header. Writes nothing."""
    result = SheetCheck()
    try:
        source = RowSource(fh, filename, formulas=bool(spec.refuse_formulas))
        reader = SheetReader(spec, source, context=context)
        result.header, result.warnings = reader.header, reader.header.warnings
        if not reader.errors:
            for number, row in reader.data_rows():
                checked = reader.check(number, row)
                if checked.errors:
                    result.errors.extend(checked.errors)
                else:
                    result.rows.append(checked)
        result.errors.extend(reader.errors)
        if not result.rows and not result.errors:
            result.errors.append(RowError(reader.header.row + 1, "", "", "文件中没有数据行。"))
    except FileFormatError as exc:
        result.rows = []  # nothing of a file that cannot be read to its end may be applied
        result.errors.append(RowError(0, "", "", exc.message))
    return result
