"""Small builders for refund cases in the contract's JSON shape, and a helper to assess them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from core.periods import Period, period_range
from refund.rules import assess, parse_case

DATA = Path(__file__).parent / "data"

CLEAN = {
    "refund_fraud_or_false_invoice_dates": [],
    "tax_evasion_penalty_dates": [],
    "immediate_refund_since_2019_04": False,
    "immediate_refund_repaid": False,
}


def load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def ret(period: str, credit, **inputs) -> dict:
    vat_return: dict = {"period": period, "end_credit": str(credit)}
    if inputs:
        vat_return["input_tax"] = {kind: str(amount) for kind, amount in inputs.items()}
    return vat_return


def window(last: str, credits: list, **inputs) -> list[dict]:
    """Monthly returns ending with ``last``, one per credit (oldest first)."""
    end = Period.parse(last)
    months = period_range(end.minus(len(credits) - 1), end)
    return [ret(str(month), credit, **inputs) for month, credit in zip(months, credits, strict=True)]


def case(
    application_period: str,
    returns: list[dict],
    *,
    industry: str | None = "E4710",
    size: str | None = None,
    level: str = "A",
    **extra,
) -> dict:
    taxpayer: dict = {"credit_level": level, "filing_frequency": "monthly"}
    if industry is not None:
        taxpayer["industry_code"] = industry
    if size is not None:
        taxpayer["size"] = size
    taxpayer.update(extra.pop("taxpayer", {}))
    data = {
        "application_period": application_period,
        "taxpayer": taxpayer,
        "compliance": dict(CLEAN, **extra.pop("compliance", {})),
        "returns": returns,
    }
    data.update(extra)
    return data


def decide(data: dict) -> dict:
    """Assess a contract-shaped dict the way the command does (JSON numbers as Decimal)."""
    raw = json.loads(json.dumps(data), parse_float=Decimal)
    return assess(parse_case(raw)).as_contract_dict()


def failed(out: dict) -> list[str]:
    return [c["code"] for c in out["conditions"] if not c["passed"]]


def condition(out: dict, code: str) -> dict:
    matches = [c for c in out["conditions"] if c["code"] == code]
    assert matches, f"{code} not among {[c['code'] for c in out['conditions']]}"
    return matches[0]


def alternatives(out: dict) -> dict[str, dict]:
    return {a["regime"]: a for a in out["alternatives"]}
