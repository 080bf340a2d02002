"""Properties over generated cases: repair never exceeds deduction, scores stay in bounds, the level is
monotone in the score, correcting everything never lowers the score, and a later correction never
restores more than an earlier one. Options and flags are drawn too."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from credit.rules import OPTION_SPECS, CaseError, DirectD, Evaluation, Event, Options, TaxpayerFacts, assess
from credit.rules.assess import year_day
from credit.rules.level import LevelFacts, level_for
from credit.rules.parameters import LEVEL_BANDS, evaluation_date
from credit.rules.scoring import all_corrected_on, score_events

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
        first_tax_matter_date=draw(st.sampled_from((None, date(2010, 5, 1), date(year - 1, 7, 1), date(year, 3, 1)))),
        no_business_revenue=draw(st.booleans()),
        direct_d=draw(st.sampled_from(((), (DirectD("非正常户", date(year, 6, 1), date(year, 9, 1)),)))),
        bankruptcy_reorganisation=draw(st.booleans()),
    )
    options = Options(**{name: draw(st.sampled_from(tuple(spec.choices))) for name, spec in OPTION_SPECS.items()})
    return Evaluation(year, as_of, taxpayer, tuple(draw(st.lists(events(year), max_size=12))), options)


@settings(max_examples=150, deadline=None)
@given(evaluations())
def test_repair_never_exceeds_the_deduction_and_scores_stay_in_bounds(evaluation):
    result = assess(evaluation)
    for item in result.events:
        assert 0 <= item.repair <= item.deduction
    assert 0 <= result.score <= min(result.start_score + result.bonus, 100)
    assert result.score == result.score.quantize(result.score.__class__("0.1"))
    assert result.score <= result.score_if_all_repaired_now <= 100
    for warning in result.warnings:
        assert 0 < warning.points_at_stake <= 11
    assert [w.points_at_stake for w in result.warnings] == sorted(
        (w.points_at_stake for w in result.warnings), reverse=True
    )
    assert result.refund_credit_gate == (result.level in ("A", "B"))
    if result.level == "A":
        assert result.score >= 90 and not result.not_a_conditions


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


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(CODES),
    st.dates(date(2020, 1, 1), date(2026, 12, 31)),
    st.integers(0, 700),
    st.integers(0, 700),
    st.one_of(st.none(), st.decimals(0, 5000, places=2)),
)
def test_a_later_correction_never_restores_more(code, recorded, first, second, amount):
    def repair(days: int):
        corrected = recorded + timedelta(days=days)
        as_of = max(corrected, date(recorded.year, 12, 31))
        evaluation = Evaluation(recorded.year, as_of, events=(Event(code, recorded, None, amount, corrected),))
        return assess(evaluation).events[0].repair

    early, late = sorted((first, second))
    assert repair(early) >= repair(late)


@settings(max_examples=200, deadline=None)
@given(evaluations())
def test_the_shared_repaired_pass_is_a_fresh_score_of_everything_corrected_now(evaluation):
    """``score_events`` scores "all corrected on as_of" from the first pass's groups: the same results as scoring
    the corrected events afresh; with nothing open, the very same results, and the same score and level."""
    try:
        result = assess(evaluation)
    except CaseError:
        return
    day = year_day(evaluation)
    results, _, repaired = score_events(evaluation, day)
    corrected = replace(evaluation, events=all_corrected_on(evaluation, evaluation.as_of))
    assert repaired == score_events(corrected, day)[0]
    if corrected.events is evaluation.events:
        assert repaired is results
        assert (result.score_if_all_repaired_now, result.level_if_all_repaired_now) == (result.score, result.level)


def test_nothing_open_repairs_to_the_same_score():
    year = 2026
    closed = Event("010101", date(year, 3, 16), "增值税", None, date(year, 4, 1))
    evaluation = Evaluation(year, date(year, 6, 30), TaxpayerFacts(), (closed,))
    result = assess(evaluation)
    assert result.events[0].band == "within_30_days"
    assert result.score_if_all_repaired_now == result.score
    assert result.level_if_all_repaired_now == result.level
    late = replace(evaluation, events=(replace(closed, corrected_on=date(year, 7, 2)),))  # after as_of: still open
    assert assess(late).score_if_all_repaired_now > assess(late).score
