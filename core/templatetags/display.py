"""Display filters shared by every page: ``{% load display %}`` then ``|mask_mobile``, ``|mask_id``, ``|yuan``,
``|wan``, ``|percent``, ``|count``, ``|period_cn``. Thin wrappers: the rules of each live in ``core``, where services
use them too."""

from django import template

from core import masking, money, periods

register = template.Library()


@register.filter
def mask_mobile(value) -> str:
    return masking.mask_mobile(str(value) if value is not None else "")


@register.filter
def mask_id(value) -> str:
    return masking.mask_identifier(str(value) if value is not None else "")


@register.filter
def yuan(value) -> str:
    return money.format_yuan(value)


@register.filter
def wan(value) -> str:
    return money.format_wan(value)


@register.filter
def percent(value, places: int = 2) -> str:
    return money.format_percent(value, places)


@register.filter
def count(value) -> str:
    return money.format_count(value)


@register.filter
def period_cn(value) -> str:
    return periods.format_period_cn(value)
