"""GB/T 4754-2017 industry codes for the registry: the table is ``core.industry`` (pure), shared with the refund
rules; taxpayers' validators, filters and pages read it through here."""

from core.industry import Industry, parse_industry_code, sections

__all__ = ["Industry", "parse_industry_code", "sections"]
