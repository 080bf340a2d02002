"""Every application period from 2019-04 to the last covered period resolves to a defined set of
regimes; every parameter's versions follow each other without gaps or overlaps; outside, out_of_range."""

import itertools

import pytest

from core.periods import Period, period_range
from refund.rules import CaseError
from refund.rules.parameters import ALL_PARAMETERS, FIRST_COVERED, LAST_COVERED, REGIME_PERIODS, NotCovered
from refund.rules.regimes import REGIME_CODES, regimes_open_in
from refund.tests.builders import case, decide, ret

# The contract's regime table, written out independently of parameters.py.
CONTRACT_TABLE = {
    "CN-2019-39": ("2019-04", "2025-08"),
    "CN-2019-84": ("2019-07", "2021-04"),
    "CN-2021-15": ("2021-05", "2022-03"),
    "CN-2022-14-small-micro": ("2022-04", "2025-08"),
    "CN-2022-14-industry": ("2022-04", "2025-08"),
    "CN-2025-7-class1": ("2025-09", None),
    "CN-2025-7-class2": ("2025-09", None),
    "CN-2025-7-class3": ("2025-09", None),
}
ALL_PERIODS = period_range(FIRST_COVERED, LAST_COVERED)


def expected_open(period: Period) -> set[str]:
    return {
        code
        for code, (first, last) in CONTRACT_TABLE.items()
        if Period.parse(first) <= period and (last is None or period <= Period.parse(last))
    }


def test_covered_range_is_2019_04_to_at_least_2027_12():
    assert Period(2019, 4) == FIRST_COVERED
    assert Period(2027, 12) <= LAST_COVERED


def test_regime_table_matches_the_contract():
    assert set(REGIME_CODES) == set(CONTRACT_TABLE) == set(REGIME_PERIODS)
    for period in ALL_PERIODS:
        assert {r.code for r in regimes_open_in(period)} == expected_open(period), period


def test_every_covered_period_has_a_general_regime():
    for period in ALL_PERIODS:
        codes = {r.code for r in regimes_open_in(period)}
        assert codes & {"CN-2019-39", "CN-2025-7-class3", "CN-2025-7-class1"}, period
        # 39号 and 7号 never overlap: the 2025 regime replaces everything from 2025-09.
        assert not (codes & {"CN-2019-39"} and codes & {"CN-2025-7-class1"}), period


@pytest.mark.parametrize("parameter", ALL_PARAMETERS, ids=[p.name for p in ALL_PARAMETERS])
def test_parameter_versions_are_contiguous_and_cited(parameter):
    versions = parameter.versions
    assert versions
    for version in versions:
        assert version.valid_from <= version.last
        assert version.valid_from >= FIRST_COVERED and version.last <= LAST_COVERED
        assert "号" in version.citation or "条" in version.citation, version.citation
    for before, after in itertools.pairwise(versions):
        assert after.valid_from == before.last.plus(1), (parameter.name, before.last, after.valid_from)
    # exactly one version for each period of its range, none outside
    for period in period_range(FIRST_COVERED, LAST_COVERED):
        covering = [v for v in versions if v.covers(period)]
        inside = parameter.first <= period <= parameter.last
        assert len(covering) == (1 if inside else 0), (parameter.name, period)
    with pytest.raises(NotCovered):
        parameter.at(parameter.first.minus(1))
    with pytest.raises(NotCovered):
        parameter.at(LAST_COVERED.plus(1))


@pytest.mark.parametrize("industry", ["C3411", "F5123", "K7010"])
def test_every_period_assesses_without_gaps(industry):
    """A plain taxpayer with a return for every tax period gets a decision in every covered period."""
    for period in ALL_PERIODS:
        tax_period = period.minus(1)
        returns = [ret("2019-03", 0)]
        if tax_period != Period(2019, 3):
            returns.append(ret(str(tax_period), 700_000, special_invoice=100))
        if tax_period.year - 1 >= 2019:
            returns.append(ret(f"{tax_period.year - 1}-12", 0))  # the class-3 base of 2025 onwards
        out = decide(case(str(period), returns, industry=industry, size="medium"))
        tried = {out["regime"], *(a["regime"] for a in out["alternatives"])}
        assert tried <= expected_open(period), period
        assert out["regime"] in expected_open(period)


@pytest.mark.parametrize("period", ["2019-03", "2018-12", "2000-01", "2028-01", "2099-12"])
def test_outside_the_covered_range(period):
    p = Period.parse(period)
    with pytest.raises(CaseError) as info:
        decide(case(period, [ret(str(p.minus(1)), 0)]))
    assert info.value.code == "out_of_range"
