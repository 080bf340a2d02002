"""Properties over generated cases: repair never exceeds deduction, scores stay in bounds, the level is
monotone in the score, and correcting everything never lowers the score."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from credit.rules import Evaluation, Event, TaxpayerFacts, assess
from credit.rules.level import LevelFacts, level_for
from credit.rules.parameters import LEVEL_BANDS, evaluation_date

CODES = (
    "010101",
    "010102",
    "010103",
    "010501",
    "010502",
    "BANK-ACCOUNTS-NOT-ALL-REPORTED",
    "BANK-ACCOUNT-REPORTED-LATE",
)
ORDER = {"D": 0, "C": 1, "B": 2, "A": 3}


@st.composite
def events(draw, year: int):
    day = draw(st.integers(0, 364))
    recorded = date(year, 1, 1) + timedelta(days=day)
    corrected = draw(st.one_of(st.none(), st.integers(0, 800).map(lambda n: recorded + timedelta(days=n))))
    amount = draw(st.one_of(st.none(), st.decimals(0, 10000, places=2)))
    return Event(draw(st.sampled_from(CODES)), recorded, "增值税", amount, corrected, draw(st.booleans()))


@st.composite
def evaluations(draw):
    year = draw(st.sampled_from((2020, 2023, 2025, 2026)))
    as_of = date(year, 1, 1) + timedelta(days=draw(st.integers(0, 800)))
    taxpayer = TaxpayerFacts(
        non_regular_info=draw(st.booleans()),
        regular_tax_fee_info_complete=draw(st.booleans()),
        previous_level=draw(st.sampled_from((None, "A", "B", "C", "D"))),
        previous_d_kind=draw(st.sampled_from((None, "score", "direct"))),
    )
    return Evaluation(year, as_of, taxpayer, tuple(draw(st.lists(events(year), max_size=12))))


@settings(max_examples=150, deadline=None)
@given(evaluations())
def test_repair_never_exceeds_the_deduction_and_scores_stay_in_bounds(evaluation):
    result = assess(evaluation)
    for item in result.events:
        assert 0 <= item.repair <= item.deduction
    assert 0 <= result.score <= result.start_score <= 100
    assert result.score == result.score.quantize(result.score.__class__("0.1"))
    assert result.score <= result.score_if_all_repaired_now <= 100
    for warning in result.warnings:
        assert 0 < warning.points_at_stake <= 11


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(0, 100, places=2),
    st.decimals(0, 100, places=2),
    st.sampled_from((2020, 2026)),
    st.booleans(),
)
def test_level_is_monotone_in_the_score(low, high, year, capped):
    low, high = sorted((low, high))
    facts = LevelFacts(False, False, False, False, ("previous_level_d",) if capped else ())
    bands = LEVEL_BANDS.at(evaluation_date(year))
    assert ORDER[level_for(low, facts, bands)[0]] <= ORDER[level_for(high, facts, bands)[0]]
