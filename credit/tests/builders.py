"""Small builders for credit cases in the contract's JSON shape."""

from __future__ import annotations

from credit.rules import assess, parse_case, to_contract_json


def ev(code: str, recorded_on: str, corrected_on: str | None = None, amount=None, tax=None, no_penalty=False) -> dict:
    return {
        "indicator": code,
        "recorded_on": recorded_on,
        "tax": tax,
        "amount": None if amount is None else str(amount),
        "corrected_on": corrected_on,
        "no_penalty": no_penalty,
    }


def case(year: int, events=(), as_of: str | None = None, options: dict | None = None, **taxpayer) -> dict:
    facts = {
        "first_tax_matter_date": "2016-03-01",
        "non_regular_info": False,
        "regular_tax_fee_info_complete": False,
        "no_business_revenue": False,
        "previous_level": "B",
        "previous_d_kind": None,
        "books_proper": True,
        "vat_payable_zero_months": [],
        "direct_d": [],
    }
    facts.update(taxpayer)
    return {
        "year": year,
        "as_of": as_of or f"{year}-12-31",
        "taxpayer": facts,
        "events": list(events),
        "options": options or {},
    }


def run(data: dict) -> dict:
    return to_contract_json(assess(parse_case(data)))
