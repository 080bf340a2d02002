"""Template filters of notify's pages (notify loads no other app's tag library)."""

from django import template

from notify import labels, text

register = template.Library()


@register.filter
def thousands(value) -> str:
    """``12345`` -> ``12,345`` (counts and amounts carry thousands separators)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@register.filter
def display_body(body) -> str:
    """A template text with its variables in officers' words: ``{taxpayer_name}`` -> ``{纳税人名称}``."""
    return text.display_body(str(body or ""))


@register.filter
def variable_label(name) -> str:
    """``taxpayer_name`` -> ``纳税人名称``."""
    return text.variable_label(str(name))


@register.filter
def sms_error(message) -> str:
    """A message's error as officers read it: ours as words, a gateway's code only after its meaning."""
    return labels.error_text(getattr(message, "error_code", ""), getattr(message, "error_message", ""))
