"""The recipient list of a batch created by hand (新建短信批次): pasted text or an xlsx/csv file, and its preview.

Files are read by the one spreadsheet reader (``core.spreadsheets``), every cell as text: Excel keeps an
11-digit mobile as a number, which is exact, and a decimal or a date is turned back into the text the officer
typed as far as possible. The first row names the columns in Chinese: 手机号码 and the template's variables by
their labels (``notify.text.VARIABLE_LABELS``: 纳税人名称, 所属期, 主管税务分局…); the variables' keys
(``taxpayer_name``) are still read from older files. A list whose first cell is already a mobile number has no
header, and its columns are the mobile and then the variables in order.

Nothing here writes. ``build_preview`` renders every row the way ``sms_batch_enqueue`` will, so the
officer sees the texts, their parts (70 characters for one, 67 per part beyond, signature included) and
every problem before confirming.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from core.cells import cell_text
from core.spreadsheets import Column, FileFormatError, HeaderMap, RowSource, SheetReader, SheetSpec, is_blank

from .models import MessageTemplate
from .services import Recipient, SmsRejected, check_mobile, compose, quiet_until
from .text import InvalidMobile, mask_mobile, normalise_mobile, segment_count, unique_variables, variable_label

MOBILE_HEADER = "手机号码"
MOBILE_HEADERS = {MOBILE_HEADER, "手机号", "手机", "号码", "电话", "mobile", "phone"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PREVIEW_ROWS = 100  # rows rendered in full on the preview page; problems are listed in full
_MOBILE = "{mobile}"  # the mobile column's key: braces, so no template variable can be named so
_UNSUPPORTED = "只能上传 .xlsx 或 .csv 文件"
_FILE_ERRORS = {  # FileFormatError.code -> what this page says
    "workbook": "无法读取该 xlsx 文件，请用 Excel 另存为 .xlsx 后重试",
    "broken": "xlsx 文件内容已损坏，请用 Excel 打开后另存为 .xlsx 再上传",
    "encoding": "无法识别 csv 文件的编码，请另存为 UTF-8 或 .xlsx",
    "csv": "csv 文件格式有误（单元格过长或含有空字符），请另存为 .xlsx 后重试",
}


class RecipientListError(ValueError):
    """The list cannot be used at all (no mobile column, missing variables, too many rows); Chinese message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RecipientRow:
    row: int  # row of the sheet or line of the pasted text, as the officer sees it
    mobile: str
    variables: dict[str, str]


# --- reading ----------------------------------------------------------------------------------------------
def read_upload(uploaded) -> list[tuple[int, list]]:
    """(row number, cells) of an uploaded .xlsx or .csv (UTF-8 or, as Excel saves it in China, GB18030)."""
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise RecipientListError(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请分批上传")
    try:
        return list(RowSource(uploaded, getattr(uploaded, "name", "") or ""))
    except FileFormatError as exc:
        raise RecipientListError(_FILE_ERRORS.get(exc.code, _UNSUPPORTED)) from None


def read_pasted(text: str) -> list[tuple[int, list[str]]]:
    """Lines pasted from Excel (tab-separated) or typed with commas (， or ,)."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), 1):
        cells = line.split("\t") if "\t" in line else next(csv.reader([line.replace("，", ",")]), [])
        rows.append((number, [c.strip() for c in cells]))
    return rows


def _is_mobile(value: str) -> bool:
    try:
        normalise_mobile(value)
    except InvalidMobile:
        return False
    return True


def _spec(names: list[str]) -> SheetSpec:
    """The mobile, then the template's variables by their labels (or keys); the header is the first row."""
    variables = (Column(name, variable_label(name), aliases=(name,)) for name in names)
    return SheetSpec(columns=(Column(_MOBILE, MOBILE_HEADER, aliases=tuple(MOBILE_HEADERS)), *variables), search_rows=1)


def _checked_header(header: HeaderMap, number: int, first: list, names: list[str]) -> list[str]:
    """Refuse a header without the mobile or a variable; the notices for the columns that are ignored."""
    expected = "、".join([MOBILE_HEADER, *(variable_label(name) for name in names)])
    if _MOBILE not in header.positions:
        raise RecipientListError(f"第 {number} 行（表头）没有“{MOBILE_HEADER}”列；表头应为：{expected}")
    missing = [variable_label(name) for name in names if name not in header.positions]
    if missing:
        raise RecipientListError(f"第 {number} 行（表头）缺少“{'”“'.join(missing)}”列；表头应为：{expected}")
    used = set(header.positions.values())
    written = [cell_text(raw).lstrip("*").strip() for raw in first]
    extra = [text for i, text in enumerate(written) if text and i not in used]  # a repeated column too
    return [f"以下列不是模板变量，已忽略：{'、'.join(extra)}"] if extra else []


def parse_rows(table: list[tuple[int, list]], *, template: MessageTemplate) -> tuple[list[RecipientRow], list[str]]:
    """Map the columns to the mobile and the template's variables; returns the rows and notices for the officer."""
    rows = [(n, cells) for n, cells in table if not is_blank(cells)]
    if not rows:
        raise RecipientListError("没有读到任何收件人，请粘贴或上传收件人名单")
    names = unique_variables(template.body)
    spec = _spec(names)
    first_number, first = rows[0]
    if first and _is_mobile(cell_text(first[0])):
        reader, notices = SheetReader(spec, rows, header=HeaderMap.positional(spec.columns)), []
    else:
        reader = SheetReader(spec, rows)
        notices = _checked_header(reader.header, first_number, first, names)
    body = [reader.check(number, cells) for number, cells in reader.data_rows()]
    limit = settings.SMS_BATCH_UPLOAD_MAX_ROWS
    if len(body) > limit:
        raise RecipientListError(f"收件人 {len(body)} 个，超过每批上限 {limit} 个，请分成几批")
    if not body:
        raise RecipientListError("只有表头，没有收件人")
    parsed = [
        RecipientRow(row.row, row.values[_MOBILE], {name: row.values.get(name, "") for name in names}) for row in body
    ]
    return parsed, notices


# --- preview ----------------------------------------------------------------------------------------------
def _row_reason(item: RecipientRow, exc: SmsRejected) -> str:
    """Why a row cannot be sent, naming its column: ``“手机号码”列的号码无效：138****0000``, ``“所属期”列为空``."""
    if exc.code == "invalid_mobile":
        if not str(item.mobile or "").strip():
            return f"“{MOBILE_HEADER}”列为空，请填写"
        return f"“{MOBILE_HEADER}”列的号码无效：{mask_mobile(str(item.mobile))}"
    if exc.code == "missing_variable":
        empty = [variable_label(name) for name, value in item.variables.items() if value == ""]
        if empty:
            return f"“{'”“'.join(empty)}”列为空，请填写"
    return exc.message


@dataclass
class PreviewRow:
    row: int
    mobile: str  # normalised when valid
    masked: str
    text: str
    length: int
    parts: int
    state: str  # "send", "error", "opted_out" or "duplicate"
    reason: str = ""


@dataclass
class BatchPreview:
    rows: list[PreviewRow] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    to_send: int = 0
    errors: int = 0
    opted_out: int = 0
    duplicates: int = 0
    parts: int = 0  # billed parts of the messages that will be sent
    distinct_texts: int = 0
    quiet_until: dt.datetime | None = None

    @property
    def problems(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.state != "send"]

    @property
    def shown(self) -> list[PreviewRow]:
        return self.rows[:PREVIEW_ROWS]


def build_preview(
    *, template: MessageTemplate, rows: list[RecipientRow], opted_out: set[str], now: dt.datetime
) -> tuple[BatchPreview, list[Recipient]]:
    """Render every row as the outbox will; returns the preview and the recipients to enqueue.

    Rows with a bad number or a missing variable are enqueued as failed rows (the batch shows them);
    a row repeating an earlier row's number *and* text is dropped, so nobody gets the same text twice.
    A number may appear twice with different texts (one accountant for two taxpayers).
    """
    preview = BatchPreview(quiet_until=quiet_until(now))
    recipients: list[Recipient] = []
    seen: set[tuple[str, str]] = set()
    texts: set[str] = set()
    for item in rows:
        variables = {k: v for k, v in item.variables.items() if v != ""}  # an empty cell is a missing variable
        try:
            mobile = check_mobile(item.mobile)
            text = compose(template=template, text=None, variables=variables)
        except SmsRejected as exc:
            preview.rows.append(PreviewRow(item.row, item.mobile, mask_mobile(item.mobile), "", 0, 0, "error",
                                           _row_reason(item, exc)))
            preview.errors += 1
            recipients.append(Recipient(item.mobile, variables, key=f"row{item.row}"))
            continue
        row = PreviewRow(item.row, mobile, mask_mobile(mobile), text, len(text), segment_count(text), "send")
        if (mobile, text) in seen:
            row.state, row.reason = "duplicate", "与前面某行号码和内容都相同，只发送一次"
            preview.duplicates += 1
            preview.rows.append(row)
            continue
        seen.add((mobile, text))
        if mobile in opted_out:
            row.state, row.reason = "opted_out", "号码已退订，不发送"
            preview.opted_out += 1
        else:
            preview.to_send += 1
            preview.parts += row.parts
            texts.add(text)
        preview.rows.append(row)
        recipients.append(Recipient(mobile, variables, key=f"row{item.row}"))
    preview.distinct_texts = len(texts)
    return preview, recipients
