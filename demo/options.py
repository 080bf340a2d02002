"""What the demo's commands share: ``--today``, the day the demo county and its history are built for."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today “{value}” 不是有效日期，应为 YYYY-MM-DD。") from exc


def add_today_argument(parser) -> None:
    parser.add_argument("--today", type=parse_date, default=None, help="以此日期为“今天”（YYYY-MM-DD，默认当天）")
