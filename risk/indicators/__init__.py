"""The indicator library (风险指标库): every indicator by code, in the order of the six families.

Definitions live in code (code, family, Chinese title and description, severity, parameters with their defaults
and units, the query); the values risk officers set are ``IndicatorParameterVersion`` rows.
"""

from . import anomalies, control, invoices, operations, policy, rating
from .base import Family, Indicator, Kind, Parameter, Scope, Statement

INDICATORS: dict[str, Indicator] = {
    indicator.code: indicator
    for module in (policy, rating, invoices, operations, control, anomalies)
    for indicator in module.INDICATORS
}

__all__ = ["INDICATORS", "Family", "Indicator", "Kind", "Parameter", "Scope", "Statement", "indicator_get"]


def indicator_get(code: str) -> Indicator:
    """The indicator of ``code``; ``KeyError`` for a code the library does not hold."""
    return INDICATORS[code]
