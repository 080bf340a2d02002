"""Display filters shared by every page: ``{% load display %}`` then ``|mask_mobile``, ``|mask_id``, ``|yuan``,
``|wan``, ``|percent``, ``|count``, ``|period_cn``. The rules of each live in ``core``, where services use them too;
the formatters are registered as they are."""

from django import template

from core import masking, money, periods

register = template.Library()

FORMATTERS = {
    "yuan": money.format_yuan,
    "wan": money.format_wan,
    "percent": money.format_percent,
    "count": money.format_count,
    "period_cn": periods.format_period_cn,
}
for name, formatter in FORMATTERS.items():
    register.filter(name, formatter)


@register.filter
def mask_mobile(value) -> str:
    return masking.mask_mobile(str(value) if value is not None else "")


@register.filter
def mask_id(value) -> str:
    return masking.mask_identifier(str(value) if value is not None else "")
