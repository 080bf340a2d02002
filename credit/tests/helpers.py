"""Files for the credit imports' tests: an xlsx upload from rows."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook


def xlsx_upload(rows: list[list], name: str = "credit.xlsx") -> SimpleUploadedFile:
    """An uploaded xlsx whose first sheet holds ``rows`` (the first is the header)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/vnd.ms-excel")
