"""Display filters of the refund pages: ``{% load screening %}`` then ``|regime_title``, ``|condition_title``,
``|condition_titles``, ``|size_title``, ``|error_title`` (the words of ``refund.labels``), and core's ``|percent`` and
``|count`` (``core.money``, whose amounts' ``|yuan`` and ``|wan`` are in ``{% load display %}``), registered here as
well so that a screening page needs one ``load``."""

from django import template

from core import money
from refund import labels

register = template.Library()

register.filter("percent", money.format_percent)
register.filter("count", money.format_count)
register.filter("regime_title", labels.regime_title)
register.filter("condition_title", labels.condition_title)
register.filter("size_title", labels.size_title)


@register.filter
def error_title(code) -> str:
    return labels.error_help(code).title if code else ""


@register.filter
def condition_titles(codes) -> str:
    """The failed conditions' titles in one line, as a list's cell shows them."""
    return "、".join(labels.condition_titles(codes))
