"""Published worked cases (refund/tests/data/refund-golden.json) in the contract's format.

refund/tests/data/golden_cases.json says for each case what was added to make it a
full case, which values are published (exact, or within a tolerance when the source
is in 万元 or a rounded percentage) and which we derived ourselves.
"""

from decimal import Decimal

import pytest

from refund.tests.builders import condition, decide, failed, load

GOLDEN = load("golden_cases.json")
SOURCE_IDS = {g["id"] for g in load("refund-golden.json")}


@pytest.mark.parametrize("entry", GOLDEN["cases"], ids=[c["id"] for c in GOLDEN["cases"]])
def test_golden_case(entry):
    out = decide(entry["input"])
    for key, value in {**entry["expect"], **entry.get("expect_derived", {})}.items():
        if key == "failed_conditions":
            assert failed(out) == value
        elif key == "industry_share_detail_contains":
            assert value in condition(out, "industry_share")["detail"]
        else:
            assert out[key] == value, key
    for key, (published, tolerance) in entry.get("expect_within", {}).items():
        assert abs(Decimal(out[key]) - Decimal(published)) <= Decimal(tolerance), (key, out[key], published)


def test_every_published_case_is_used_or_skipped_with_a_reason():
    used = {c["golden_id"] for c in GOLDEN["cases"]}
    skipped = {s["golden_id"]: s["reason"] for s in GOLDEN["skipped"]}
    assert used | set(skipped) == SOURCE_IDS
    assert not used & set(skipped)
    assert all(reason for reason in skipped.values())
