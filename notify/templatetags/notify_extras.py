"""Template filters of notify's pages (notify loads no other app's tag library)."""

from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    """``12345`` -> ``12,345`` (UX.md: counts and amounts with thousands separators)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)
