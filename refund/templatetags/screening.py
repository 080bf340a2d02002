"""Display filters of the refund pages: ``{% load screening %}`` then ``|regime_title``, ``|condition_title``,
``|condition_titles``, ``|size_title``, ``|error_title`` (the words of ``refund.labels``), and core's ``|percent`` and
``|count`` (``core.templatetags.display``, where amounts' ``|yuan`` and ``|wan`` are too), registered here as well
so that a screening page needs one ``load``."""

from django import template

from core.templatetags import display
from refund import labels

register = template.Library()

register.filter("percent", display.percent)
register.filter("count", display.count)


@register.filter
def regime_title(code) -> str:
    return labels.regime_title(code)


@register.filter
def condition_title(code) -> str:
    return labels.condition_title(code)


@register.filter
def size_title(code) -> str:
    return labels.size_title(code)


@register.filter
def error_title(code) -> str:
    return labels.error_help(code).title if code else ""


@register.filter
def condition_titles(codes) -> str:
    return "、".join(labels.condition_title(code) for code in codes or ())
