"""``python manage.py filing_calendar YEAR``: the year's filing deadlines and candidate-list push dates.

The bureau's command format for the filing calendar. Standard output carries only one JSON object.
Exit 0 with ``{"year", "months": [...]}``; exit 2 with ``{"error", "message"}`` for an unusable YEAR or a
year (or any month of it) with neither a stored table nor holiday data — it never guesses.
"""

from __future__ import annotations

import logging
import re

from core.json_command import EXIT_UNUSABLE, JsonCommand
from refund.candidates.push_dates import push_dates
from taxpayers.calendar import CalendarUnavailable, deadline_for

logger = logging.getLogger(__name__)

YEAR_RE = re.compile(r"^\d{4}$")
MIN_YEAR, MAX_YEAR = 2000, 2100


class YearError(Exception):
    pass


def parse_year(raw: str | None) -> int:
    if raw is None:
        raise YearError("请提供年度，例如：python manage.py filing_calendar 2024。")
    text = raw.strip()
    if not YEAR_RE.match(text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise YearError(f"年度应为 {MIN_YEAR}–{MAX_YEAR} 之间的四位数字，收到：{raw!r}。")
    return int(text)


def filing_calendar(year: int, region: str = "") -> dict:
    """The contract's JSON object for ``year``; raises ``CalendarUnavailable`` if any month cannot be computed."""
    months = []
    for month in range(1, 13):
        deadline, source = deadline_for(year, month, region)
        months.append(
            {
                "month": f"{year:04d}-{month:02d}",
                "filing_deadline": deadline.isoformat(),
                "source": source,
                "push_dates": [day.isoformat() for day in push_dates(year, month, deadline)],
            }
        )
    return {"year": year, "months": months}


class Command(JsonCommand):
    help = "Print a year's monthly filing deadlines and candidate-list push dates as JSON (exit 2: no calendar)."
    internal_message = "生成申报日历时发生内部错误，请联系信息中心。"

    def add_arguments(self, parser) -> None:
        # A string, optional: a bad or missing YEAR must give the contract's error JSON, not argparse's usage text.
        parser.add_argument("year", nargs="?", help="calendar year, e.g. 2024")
        parser.add_argument("--region", default="", help="regional override code (default: national table)")

    def handle(self, *args, **options) -> None:
        code = self.run(options["year"], region=(options["region"] or "").strip())
        if code:
            raise SystemExit(code)

    def run(self, raw_year: str | None, *, region: str = "") -> int:
        """Print the calendar or an error; returns the exit code so nothing escapes as a traceback."""
        try:
            year = parse_year(raw_year)
            self.emit(filing_calendar(year, region))
            return 0
        except YearError as exc:
            self.emit({"error": "invalid_year", "message": str(exc)})
            return EXIT_UNUSABLE
        except CalendarUnavailable as exc:
            self.emit({"error": "no_calendar", "message": exc.message, "year": exc.year})
            return EXIT_UNUSABLE
        except Exception as exc:  # the boundary: log in English, never print a traceback
            return self.internal_error(logger, f"filing_calendar failed for {raw_year!r}", exc)
