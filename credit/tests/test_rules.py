"""Rules the worked cases do not pin: both sides of 2025-07-01, counting, caps, options, warnings."""

from datetime import date
from decimal import Decimal

import pytest

from credit.rules import CaseError, Evaluation, Event, Options, TaxpayerFacts, assess, parse_case
from credit.rules.repair import re_evaluation_deadline
from credit.tests.builders import case, ev, run


def test_typed_interface_without_json():
    evaluation = Evaluation(
        year=2026,
        as_of=date(2026, 5, 18),
        taxpayer=TaxpayerFacts(non_regular_info=True, previous_level="A"),
        events=(Event("010101", date(2026, 5, 16)),),
    )
    result = assess(evaluation)
    assert (result.score, result.level, result.refund_credit_gate) == (95, "A", True)
    assert result.warnings[0].points_at_stake == 5 and result.warnings[0].deadline == date(2026, 5, 19)


def test_typed_interface_refuses_an_unknown_code():
    evaluation = Evaluation(year=2026, as_of=date(2026, 12, 31), events=(Event("999999", date(2026, 5, 16)),))
    with pytest.raises(CaseError) as info:
        assess(evaluation)
    assert info.value.code == "unknown_indicator"


@pytest.mark.parametrize(
    ("recorded_on", "rule_set", "band", "repair"),
    [("2025-06-30", "CN-2014-40", "within_30_days", "2.4"), ("2025-07-01", "CN-2025-12", "within_3_days", "3")],
)
def test_repair_standard_follows_the_record_date(recorded_on, rule_set, band, repair):
    corrected = "2025-07-02" if recorded_on == "2025-06-30" else "2025-07-03"
    out = run(case(2025, [ev("010103", recorded_on, corrected)]))
    assert out["rule_set"] == "CN-2025-12"  # the 2025 year is rated under the 2025 办法
    assert out["events"][0]["band"] == band
    assert out["events"][0]["repair"] == repair


def test_indicator_codes_belong_to_the_table_of_the_record_date():
    with pytest.raises(CaseError) as info:
        parse_case(case(2025, [ev("010106", "2025-06-30")]))
    assert info.value.code == "unknown_indicator"
    assert run(case(2025, [ev("010106", "2025-07-01")]))["events"][0]["deduction"] == "11"


def test_transition_old_rules_whole_year():
    out = run(
        case(2025, [ev("010103", "2025-08-01", "2025-08-02")], options={"transition_2025": "old_rules_whole_year"})
    )
    assert out["rule_set"] == "CN-2014-40"
    assert (out["events"][0]["band"], out["events"][0]["repair"]) == ("within_30_days", "2.4")


def test_transition_new_rules_whole_year():
    out = run(
        case(2025, [ev("010103", "2025-03-01", "2025-03-02")], options={"transition_2025": "new_rules_whole_year"})
    )
    assert (out["events"][0]["band"], out["events"][0]["repair"]) == ("within_3_days", "3")


def test_per_month_group_is_repaired_by_its_last_correction():
    events = [ev("010101", "2026-05-16", "2026-05-17", "1000"), ev("010101", "2026-05-16", "2026-06-30", "1500")]
    out = run(case(2026, events))
    assert [e["deduction"] for e in out["events"]] == ["5", "0"]
    assert (out["events"][0]["band"], out["events"][0]["repair"]) == ("within_90_days", "3")


def test_per_month_group_with_an_open_return_is_open():
    events = [ev("010101", "2026-05-16", "2026-05-17"), ev("010101", "2026-05-16")]
    assert run(case(2026, events))["events"][0]["band"] == "open"


def test_old_rules_count_each_tax_and_occurrence():
    events = [ev("010101", "2024-05-16", tax="增值税"), ev("010101", "2024-05-16", tax="企业所得税")]
    assert run(case(2024, events))["score"] == "80"


def test_one_off_counts_once():
    events = [ev("010501", "2024-03-01"), ev("010501", "2024-09-01")]
    out = run(case(2024, events))
    assert [e["deduction"] for e in out["events"]] == ["3", "0"]
    assert out["events"][1]["band"] == "already_counted"


@pytest.mark.parametrize(("option", "repair"), [("included", "5"), ("excluded", "4")])
def test_exactly_the_threshold(option, repair):
    old = run(case(2024, [ev("010101", "2024-05-16", "2024-05-26", "1000")], options={"amount_threshold": option}))
    new = run(case(2026, [ev("010101", "2026-05-16", "2026-05-26", "2000")], options={"amount_threshold": option}))
    assert old["events"][0]["repair"] == new["events"][0]["repair"] == repair


def test_unknown_amount_takes_the_lower_share():
    assert run(case(2024, [ev("010101", "2024-05-16", "2024-05-26")]))["events"][0]["repair"] == "4"


def test_old_correction_after_the_next_year_restores_nothing():
    out = run(case(2023, [ev("010103", "2023-05-16", "2025-01-02")], as_of="2025-03-31"))
    assert (out["events"][0]["band"], out["events"][0]["repair"]) == ("too_late", "0")


def test_correction_after_as_of_is_not_counted():
    out = run(case(2024, [ev("010103", "2024-05-16", "2024-05-20")], as_of="2024-05-18"))
    assert out["events"][0]["band"] == "open"
    assert out["score"] == "87" and out["score_if_all_repaired_now"] == "89.4"


def test_not_repairable_indicator():
    out = run(case(2026, [ev("010106", "2026-05-16", "2026-05-17")]))
    assert (out["events"][0]["band"], out["events"][0]["net"]) == ("not_repairable", "11")
    assert run(case(2026, [ev("010106", "2026-05-16")]))["warnings"] == []


def test_no_penalty_counted_before_the_2021_year():
    assert run(case(2020, [ev("010101", "2020-05-16", no_penalty=True)]))["score"] == "85"
    assert run(case(2021, [ev("010101", "2021-05-16", no_penalty=True)]))["score"] == "90"


def test_previous_d_kept_before_15号_and_plus_11_after():
    assert run(case(2019, non_regular_info=True, previous_level="D", previous_d_kind="score"))["level"] == "D"
    assert run(case(2020, non_regular_info=True, previous_level="D", previous_d_kind="score"))["score"] == "89"


def test_a_related_d_is_not_kept_under_the_2025_rules():
    """2025 第三十四条（四）: the 2-year retention of a direct D does not apply to a D reached only through the
    responsible person of a 非正常户 or of a D taxpayer; before, every direct D was kept."""
    assert run(case(2025, non_regular_info=True, previous_level="D", previous_d_kind="direct"))["level"] == "D"
    related = run(case(2025, non_regular_info=True, previous_level="D", previous_d_kind="related"))
    unrated = run(case(2025, non_regular_info=True))
    assert (related["level"], related["score"]) == ("B", unrated["score"])  # not D; a D last year still bars an A
    assert run(case(2023, non_regular_info=True, previous_level="D", previous_d_kind="related"))["level"] == "D"


def test_direct_d_repaired_is_b_at_most():
    out = run(
        case(
            2023,
            non_regular_info=True,
            direct_d=[{"reason": "非正常户", "date": "2023-03-01", "repaired_on": "2023-06-01"}],
        )
    )
    assert (out["score"], out["level"], out["not_a_reasons"]) == ("100", "B", ["direct_d_repaired"])


def test_direct_d_after_as_of_is_not_yet_known():
    assert run(case(2023, as_of="2023-06-30", direct_d=[{"reason": "x", "date": "2023-12-31"}]))["level"] == "A"


def test_direct_d_stays_when_all_is_repaired_now():
    out = run(case(2023, [ev("010101", "2023-05-16")], direct_d=[{"reason": "x", "date": "2023-03-01"}]))
    assert out["level_if_all_repaired_now"] == "D"


def test_start_score_2025_rules():
    assert run(case(2026, regular_tax_fee_info_complete=True))["start_score"] == "93"
    assert run(case(2026))["start_score"] == "90"
    assert run(case(2024, regular_tax_fee_info_complete=True))["start_score"] == "90"


def test_consecutive_a_bonus_option():
    base = case(2026, [ev("010101", "2026-05-16")], previous_level="A", non_regular_info=True)
    assert run(base)["score"] == "95"
    base["options"] = {"consecutive_a_bonus": "plus_one"}
    assert run(base)["score"] == "96"
    full = case(2026, previous_level="A", non_regular_info=True, options={"consecutive_a_bonus": "plus_one"})
    assert run(full)["score"] == "100"


def test_overall_repair_option():
    data = case(2026, [ev("010101", "2026-02-16", "2026-02-20", "5000")], as_of="2026-12-31")
    assert run(data)["score"] == "89"
    data["options"] = {"overall_repair": "per_clean_month"}
    assert run(data)["score"] == "90"  # ten clean months, but never more than the 1 point still deducted


def test_warnings_most_costly_first():
    events = [
        ev("010103", "2026-05-16"),
        ev("BANK-ACCOUNTS-NOT-ALL-REPORTED", "2026-05-10"),
        ev("010101", "2026-05-16"),
    ]
    out = run(case(2026, events, as_of="2026-05-20"))
    assert [(w["indicator"], w["points_at_stake"], w["deadline"]) for w in out["warnings"]] == [
        ("BANK-ACCOUNTS-NOT-ALL-REPORTED", "8.8", "2026-06-09"),
        ("010101", "4", "2026-06-15"),
        ("010103", "2.4", "2026-06-15"),
    ]


def test_warning_after_the_last_band_has_no_deadline():
    out = run(case(2026, [ev("010103", "2026-01-16")], as_of="2026-12-31"))
    assert out["warnings"] == [
        {"code": "correct_open_behaviour", "indicator": "010103", "points_at_stake": "1.2", "deadline": None}
    ]


def test_score_never_below_zero():
    events = [ev("010101", f"2024-{m:02d}-16", tax=t) for m in range(1, 13) for t in ("增值税", "企业所得税")]
    out = run(case(2024, events))
    assert (out["score"], out["level"]) == ("0", "D")


def test_indicator_with_its_name():
    assert run(case(2024, [ev("010101 未按规定期限纳税申报", "2024-05-16")]))["events"][0]["indicator"] == "010101"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d["events"].append(ev("010101", "2023-05-16")), "invalid_date"),
        (lambda d: d["events"].append(ev("010101", "2024-05-16", "2024-05-01")), "invalid_date"),
        (lambda d: d.update(as_of="2023-12-31"), "invalid_date"),
        (lambda d: d["taxpayer"].update(previous_level="E"), "invalid_json"),
        (lambda d: d["taxpayer"].update(books_proper="yes"), "invalid_json"),
        (lambda d: d["taxpayer"].update(direct_d=[{"reason": "x"}]), "invalid_date"),
        (lambda d: d.update(events={}), "invalid_json"),
        (lambda d: d.pop("year"), "invalid_json"),
        (lambda d: d.update(year=2028), "out_of_range"),
        (lambda d: d.update(options={"amount_threshold": "maybe"}), "unsupported"),
    ],
)
def test_parse_errors(mutate, code):
    data = case(2024)
    mutate(data)
    with pytest.raises(CaseError) as info:
        parse_case(data)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("rated_on", "deadline"),
    [
        (date(2024, 4, 20), date(2024, 12, 31)),  # 40号: within the year the result was set
        (date(2025, 4, 1), date(2025, 12, 31)),
        (date(2026, 4, 1), date(2027, 3, 31)),  # 2025 rules: before the next annual evaluation
        (date(2026, 9, 30), date(2027, 3, 31)),
    ],
)
def test_re_evaluation_deadline(rated_on, deadline):
    assert re_evaluation_deadline(rated_on) == deadline


def test_correcting_a_first_offence_not_penalised_does_not_restart_the_clean_months():
    """整体守信修复 counts clean months since the last counted record: a 首违不罚 record is not part of the
    evaluation, so "if all repaired now" correcting it today must not take the month's point away."""
    day = date(2025, 1, 1)
    evaluation = Evaluation(
        2025,
        date(2025, 2, 1),
        TaxpayerFacts(books_proper=True),
        (
            Event("010101", day, "增值税", None, None, True),
            Event("010101", day, "增值税", None, day, False),
        ),
        Options(overall_repair="per_clean_month"),
    )
    result = assess(evaluation)
    assert result.score == result.score_if_all_repaired_now == Decimal("90.0")
