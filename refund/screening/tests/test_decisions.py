"""The stored row of a decision is built from the rules' typed ``Decision``; it must say exactly what the
contract's JSON of the same decision says (amounts in cents, the ratio in six places), as when the row was read
back from that JSON. ``decision_of`` checks a case built in process as the parser checks its JSON."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from core.periods import Period
from refund.rules import CaseError, parse_case
from refund.rules.conditions import CONDITION_BITS
from refund.rules.inputs import Case, Taxpayer
from refund.screening.decisions import contract_output, decide, decision_of, result_from_decision
from refund.tests.builders import load

GOLDEN = load("golden_cases.json")["cases"]
NUMBERS = (
    "current_credit",
    "base_credit",
    "incremental_credit",
    "stock_credit",
    "input_ratio",
    "refundable_incremental",
    "refundable_stock",
    "refundable_total",
)


def _case(entry: dict) -> Case:
    return parse_case(json.loads(json.dumps(entry["input"]), parse_float=Decimal))


@pytest.mark.parametrize("entry", GOLDEN, ids=[c["id"] for c in GOLDEN])
def test_the_row_of_the_typed_decision_is_the_row_of_its_json(entry):
    outcome = decision_of(_case(entry))
    out = contract_output(outcome)
    assert out == decide(_case(entry))
    row = result_from_decision(run=None, taxpayer_id=1, decision=outcome)
    for name in NUMBERS:
        value = getattr(row, name)
        assert (None if value is None else str(value)) == out[name], name
    assert row.regime == (out["regime"] or "")
    assert row.size == (out["size"] or "")
    assert row.refund_rate == (out["refund_rate"] or "")
    assert row.eligible is out["eligible"]
    assert row.failed_mask == sum(CONDITION_BITS[c["code"]] for c in out["conditions"] if not c["passed"])


def test_an_unassessable_case_is_its_error():
    outcome = decision_of(Case(Period(2026, 3), dt.date(2026, 3, 2), Taxpayer("A")))
    assert isinstance(outcome, CaseError)
    assert contract_output(outcome)["error"] == "missing_return"
    assert result_from_decision(run=None, taxpayer_id=1, decision=outcome).error_code == "missing_return"


def test_a_bad_value_is_refused_as_in_its_json():
    outcome = decision_of(Case(Period(2026, 3), dt.date(2026, 4, 1), Taxpayer("A")))
    assert isinstance(outcome, CaseError) and outcome.code == "invalid_date"
