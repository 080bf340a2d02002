"""Reading the credit files the core tax system (金三) exports: the ratings (纳税信用评价结果), the dishonesty
events (失信行为记录), and — read by ``taxpayers.flags`` — the 专精特新 / 创新型中小企业 flags.

Each file is read whole by the one spreadsheet reader (``core.spreadsheets``) and writes nothing here;
``credit.services`` applies it only when every row is right (all or nothing). Every problem is a ``RowError``
(row, column as the file spells it, value, Chinese reason).
"""

from .readers import EVENT_SPEC, RATING_SPEC, read_events, read_ratings
from .templates import build_template

__all__ = ["EVENT_SPEC", "RATING_SPEC", "build_template", "read_events", "read_ratings"]
