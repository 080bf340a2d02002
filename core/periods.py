"""Periods (months, ``YYYY-MM``) as the UI writes them. The Period value type will join them here."""


def format_period_cn(value) -> str:
    """``"2024-05"`` -> ``"2024年05月"``; anything not shaped like a period is returned unchanged."""
    text = str(value or "")
    year, sep, month = text.partition("-")
    if sep and len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit():
        return f"{year}年{month}月"
    return text
