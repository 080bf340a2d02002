"""The worked credit cases (credit/tests/data/golden_cases.json) through the contract's JSON.

Each case names the worked case it comes from (``golden_id``) and its source; ``expect`` lists the
values that must match (``events`` item by item, only the keys given). Worked cases, or parts of them,
the contract cannot express, each with its reason in the data file's ``not_expressible``:

- credit-g12-level-boundaries (in part): scores 69.99 and 39.9 cannot arise from behaviours (every
  net deduction is a multiple of 0.2); the level function is tested on them directly below;
- credit-g17-nonnormal-D-repair-window, credit-g18-related-D-6-months,
  credit-g19-decision-unpaid-60-days: eligibility of a repair application (application year, clean
  months, 60-day payment) belongs to the repair cases, not to the contract; the B cap after a
  direct-D repair is tested in test_rules.py;
- credit-g24-liudi-refund-rating-gate (in part): which rating counts on the submission date needs
  the rating history; the five levels are cases;
- credit-g25-bank-tax-loan-gate: the 银税互动 gate is not in the contract.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from credit.rules import assess, parse_case, to_contract_json
from credit.rules.level import LevelFacts, level_for
from credit.rules.parameters import LEVEL_BANDS, evaluation_date

DATA = json.loads((Path(__file__).parent / "data" / "golden_cases.json").read_text(encoding="utf-8"))
GOLDEN_IDS = {
    "credit-g01-2025-stamp-duty-3day",
    *(f"credit-g02{s}-2025-late-filing-band" for s in "abcde"),
    *(f"credit-g03{s}-2025-financial-statements-band" for s in "abcd"),
    *(f"credit-g04{s}-2025-bank-accounts-band" for s in "abcd"),
    *(f"credit-g05{s}-2021-late-filing-band" for s in "abcdef"),
    *(f"credit-g06{s}-2021-financial-statements-band" for s in "abc"),
    *(f"credit-g07{s}-2021-bank-accounts-band" for s in "abc"),
    "credit-g08-late-filing-count-old-vs-2025",
    "credit-g09-old-start90-one-late-return",
    "credit-g10-old-start100-A-then-capped",
    "credit-g11-2025-start93",
    "credit-g12-level-boundaries",
    "credit-g13-M-level",
    "credit-g14-score-based-D-next-year",
    "credit-g15-score-based-D-next-year-start90",
    "credit-g16-direct-D-retention",
    "credit-g17-nonnormal-D-repair-window",
    "credit-g18-related-D-6-months",
    "credit-g19-decision-unpaid-60-days",
    "credit-g20-bankruptcy-reorg-old",
    "credit-g21-recompute-after-repair-C-to-B",
    "credit-g22-2025-vat-zero-months",
    "credit-g23-shouweibufa",
    "credit-g24-liudi-refund-rating-gate",
    "credit-g25-bank-tax-loan-gate",
}


def run(data: dict) -> dict:
    return to_contract_json(assess(parse_case(data)))


@pytest.mark.parametrize("entry", DATA["cases"], ids=[c["id"] for c in DATA["cases"]])
def test_golden_case(entry):
    out = run(entry["input"])
    for key, value in entry["expect"].items():
        if key in ("events", "warnings"):
            assert len(out[key]) == len(value), key
            for got, want in zip(out[key], value, strict=True):
                assert {k: got[k] for k in want} == want, (key, got)
        else:
            assert out[key] == value, key


def test_every_worked_case_is_a_test_or_said_not_to_be():
    used = {c["golden_id"] for c in DATA["cases"]}
    skipped = {s["golden_id"]: s["reason"] for s in DATA["not_expressible"]}
    assert used | set(skipped) == GOLDEN_IDS
    assert len(GOLDEN_IDS) == 44
    assert all(skipped.values())
    partly = {"credit-g12-level-boundaries", "credit-g24-liudi-refund-rating-gate"}
    assert used & set(skipped) == partly


@pytest.mark.parametrize(
    ("score", "level"),
    [("100", "A"), ("90", "A"), ("89.4", "B"), ("70", "B"), ("69.99", "C"), ("40", "C"), ("39.9", "D")],
)
def test_level_boundaries_compare_as_decimals(score, level):
    facts = LevelFacts(False, False, False, False, ())
    for year in (2023, 2026):
        assert level_for(Decimal(score), facts, LEVEL_BANDS.at(evaluation_date(year)))[0] == level
