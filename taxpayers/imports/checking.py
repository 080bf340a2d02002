"""Checking a whole file of one kind without writing anything, then handing its rows over for writing.

``check_file`` reads every row with the one spreadsheet reader (``core.spreadsheets``) and reports every
problem as a ``RowError``; ``taxpayers.services`` applies the file only when there is none (all or nothing),
reading it again through ``iter_valid_chunks``. Rows are checked a chunk at a time: the taxpayers a chunk
names are fetched in one query, and a file of a whole province never sits in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from core.cells import Cell, cell_text
from core.spreadsheets import CheckedRow, FileFormatError, RowError, RowSource, SheetReader

from .cells import ImportContext, identifier_key
from .specs import get_spec

# Rows are checked and written in chunks: one query per chunk for the taxpayers it names.
CHUNK_ROWS = 1000
# A file with a wrong column can produce an error per row; the job keeps the first ones.
MAX_STORED_ERRORS = 1000
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass
class FileCheck:
    """What ``check_file`` found; ``errors`` holds at most ``MAX_STORED_ERRORS`` of ``error_count``."""

    total_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class ImportFile:
    """One file of one kind: its header found by the reader, its rows checked chunk by chunk."""

    def __init__(self, kind: str, fh, filename: str, *, today: dt.date):
        self.spec = get_spec(kind)
        self.source = RowSource(fh, filename)
        self.ctx = ImportContext(today=today)
        self.reader = SheetReader(self.spec.sheet, self.source, context=self.ctx)
        self.header = self.reader.header

    @property
    def estimated_rows(self) -> int:
        return max(0, self.source.estimated_rows - max(self.header.row, 1))

    def chunks(self) -> Iterator[list[CheckedRow]]:
        """Checked data rows, ``CHUNK_ROWS`` at a time; none when the header is wrong."""
        if self.reader.errors:
            return
        chunk: list[tuple[int, list]] = []
        for item in self.reader.data_rows():
            chunk.append(item)
            if len(chunk) >= CHUNK_ROWS:
                yield self._check_chunk(chunk)
                chunk = []
        if chunk:
            yield self._check_chunk(chunk)

    def _check_chunk(self, chunk: list[tuple[int, list]]) -> list[CheckedRow]:
        if "taxpayer_id" in self.header.positions:
            raws = [self.reader.raw(row, "taxpayer_id") for _, row in chunk]
            self.ctx.prefetch_taxpayers([identifier_key(Cell(cell_text(raw), raw)) for raw in raws])
        return [self.reader.check(number, row) for number, row in chunk]


def check_file(
    kind: str, fh, filename: str, *, today: dt.date, progress: Callable[[int, int], None] | None = None
) -> FileCheck:
    """Check every row of the file without writing anything: types, identifiers, duplicates, references."""
    result = FileCheck()
    try:
        reader = ImportFile(kind, fh, filename, today=today)
        for chunk in reader.chunks():
            for checked in chunk:
                result.total_rows += 1
                for error in checked.errors:
                    result.add(error)
            if progress:
                progress(result.total_rows, max(reader.estimated_rows, result.total_rows))
        for error in reader.reader.errors:
            result.add(error)
        result.warnings = reader.header.warnings
        if not reader.reader.errors and result.total_rows == 0:
            result.add(RowError(reader.header.row + 1, "", "", "文件中没有数据行。"))
    except FileFormatError as exc:
        result.add(RowError(0, "", "", exc.message))
    return result


class RowsChangedError(Exception):
    """Rows that passed ``check_file`` fail when read again for writing (a taxpayer deleted meanwhile)."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} rows no longer valid")
        self.errors = errors


def iter_valid_chunks(kind: str, fh, filename: str, *, today: dt.date) -> Iterator[list[CheckedRow]]:
    """The rows of a file that ``check_file`` accepted, chunk by chunk, for writing."""
    reader = ImportFile(kind, fh, filename, today=today)
    for chunk in reader.chunks():
        errors = [error for checked in chunk for error in checked.errors]
        if errors:
            raise RowsChangedError(errors)
        yield chunk
    if reader.reader.errors:
        raise RowsChangedError(reader.reader.errors)
