"""Importing the files the core tax system (金三) exports: taxpayers, VAT returns, compliance records.

Each kind declares its columns (``specs``, with the registry-aware cell parsers of ``cells``) for the one
spreadsheet reader of ``core.spreadsheets``. ``checking`` checks a whole file without writing anything, so
that ``taxpayers.services`` applies it only when every row is right (all or nothing), and hands the rows
over chunk by chunk; ``workbooks`` builds the template and the error report the officer downloads.
Every problem is a ``RowError`` — row, the header as the file spells it, value, Chinese reason — so the
officer can fix the file in Excel and upload it again.
"""

from core.spreadsheets import EXCERPT_CHARS, FileFormatError, RowError, file_format

from .cells import ImportContext, parse_identifier, refuse_unknown_taxpayers, taxpayer_ids_by_identifier
from .checking import (
    CHUNK_ROWS,
    MAX_STORED_ERRORS,
    MAX_UPLOAD_BYTES,
    FileCheck,
    ImportFile,
    RowsChangedError,
    check_file,
    iter_valid_chunks,
)
from .specs import SPECS, ImportSpec, TemplateColumn, get_spec
from .workbooks import build_error_report, build_template

__all__ = [
    "CHUNK_ROWS",
    "EXCERPT_CHARS",
    "MAX_STORED_ERRORS",
    "MAX_UPLOAD_BYTES",
    "SPECS",
    "FileCheck",
    "FileFormatError",
    "ImportContext",
    "ImportFile",
    "ImportSpec",
    "RowError",
    "RowsChangedError",
    "TemplateColumn",
    "build_error_report",
    "build_template",
    "check_file",
    "file_format",
    "get_spec",
    "iter_valid_chunks",
    "parse_identifier",
    "refuse_unknown_taxpayers",
    "taxpayer_ids_by_identifier",
]
