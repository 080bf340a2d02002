"""Each of the contract's error codes, from the parser or the assessment, and through the command."""

import copy
import io
import json

import pytest
from django.core.management import call_command

from refund.rules import ERROR_CODES, CaseError, load_case_json
from refund.tests.builders import case, decide, ret

GOOD = case("2022-05", [ret("2019-03", 100_000), ret("2022-04", 200_000, special_invoice=10)], size="small")


def error_of(data) -> CaseError:
    with pytest.raises(CaseError) as info:
        decide(data) if isinstance(data, dict) else load_case_json(data)
    return info.value


def with_(path: str, value):
    """GOOD with one value replaced, ``path`` as dotted keys and list indexes."""
    data = copy.deepcopy(GOOD)
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is ...:
        target.pop(last, None)
    else:
        target[last] = value
    return data


def test_good_case_is_assessed():
    assert decide(GOOD)["eligible"] is True


@pytest.mark.parametrize(
    "text",
    ["{not json", "", "[]", '"2022-05"', "null", '{"application_period": "2022-05", "returns": [], "x": NaN}'],
)
def test_invalid_json(text):
    assert error_of(text).code == "invalid_json"


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("taxpayer", ..., "invalid_json"),
        ("taxpayer.credit_level", "E", "invalid_json"),
        ("taxpayer.filing_frequency", "yearly", "invalid_json"),
        ("returns", {"period": "2022-04"}, "invalid_json"),
        ("returns.1.input_tax", {"invoice_of_some_kind": "1"}, "invalid_json"),
        ("compliance.immediate_refund_repaid", "yes", "invalid_json"),
        ("application_period", "2022-13", "invalid_period"),
        ("application_period", "2022-5", "invalid_period"),
        ("application_period", 202205, "invalid_period"),
        ("application_period", ..., "invalid_period"),
        ("returns.1.period", "2022/04", "invalid_period"),
        ("returns.1", ret("2019-03", 5), "invalid_period"),  # the same period twice
        ("previous_refunds", [{"application_period": "22-04", "kind": "stock", "amount": "1"}], "invalid_period"),
        ("application_date", "2022-02-30", "invalid_date"),
        ("application_date", "2022-06-01", "invalid_date"),  # not in the application period
        ("application_date", "10/05/2022", "invalid_date"),
        ("compliance.tax_evasion_penalty_dates", ["2021-06-31"], "invalid_date"),
        ("taxpayer.general_taxpayer_since", "2015", "invalid_date"),
        ("returns.1.end_credit", "abc", "invalid_amount"),
        ("returns.1.end_credit", "1,000.00", "invalid_amount"),
        ("returns.1.end_credit", True, "invalid_amount"),
        ("returns.1.end_credit", "", "invalid_amount"),
        ("returns.1.end_credit", ..., "invalid_amount"),
        ("returns.1.input_tax", {"customs": "Infinity"}, "invalid_amount"),
        ("returns.1.end_credit", "1e400", "invalid_amount"),
        ("adjustments", {"vat_arrears": [1]}, "invalid_amount"),
        ("returns.1.end_credit", "-0.01", "negative_amount"),
        ("returns.1.end_credit", -5, "negative_amount"),
        ("returns.1.input_tax", {"special_invoice": "-100"}, "negative_amount"),
        ("adjustments", {"approved_unbooked_export_refund": "-1"}, "negative_amount"),
        ("taxpayer.sales_12m_by_industry", {"C3411": "-1"}, "negative_amount"),
        ("taxpayer.industry_code", "Z9999", "missing_industry"),
        ("taxpayer.industry_code", "C5123", "missing_industry"),  # section letter disagrees with the division
        ("options", {"no_such_option": "x"}, "unsupported"),
        ("options", {"class3_ratio_start": "1999_01"}, "unsupported"),
    ],
)
def test_parse_errors(path, value, code):
    assert error_of(with_(path, value)).code == code


def test_missing_return_of_the_tax_period():
    data = case("2022-05", [ret("2019-03", 0), ret("2022-03", 100)], size="small")
    err = error_of(data)
    assert err.code == "missing_return"
    assert "2022-04" in err.message


def test_missing_base_return_unless_general_taxpayer_later():
    data = case("2022-05", [ret("2022-04", 100, special_invoice=1)], size="small")
    assert error_of(data).code == "missing_return"
    data["taxpayer"]["general_taxpayer_since"] = "2020-07-01"
    out = decide(data)
    assert out["base_credit"] == "0.00"
    assert out["incremental_credit"] == "100.00"


def test_missing_prior_year_end_return_for_class3():
    data = case("2025-10", [ret("2019-03", 0), ret("2025-09", 100, special_invoice=1)], industry="F5123")
    err = error_of(data)
    assert err.code == "missing_return"
    assert "2024-12" in err.message


def test_missing_quarterly_return():
    data = case(
        "2022-05", [ret("2019-03", 0), ret("2022-04", 100)], size="small", taxpayer={"filing_frequency": "quarterly"}
    )
    err = error_of(data)
    assert err.code == "missing_return"
    assert "2022-03" in err.message


def test_missing_size_when_small_micro_is_open():
    assert error_of(with_("taxpayer.size", ...)).code == "missing_size"
    incomplete = with_("taxpayer.size", ...)
    incomplete["taxpayer"]["size_inputs"] = {"industry": "construction", "prev_year_vat_sales": "64000000"}
    assert error_of(incomplete).code == "missing_size"  # construction also needs total assets


def test_size_not_needed_outside_2022_to_2025_08():
    data = case("2021-06", [ret("2019-03", 0), ret("2021-05", 100, special_invoice=1)])
    assert decide(data)["size"] is None


def test_unsupported_size_without_a_previous_year():
    data = with_("taxpayer.size", ...)
    data["taxpayer"]["size_inputs"] = {
        "industry": "industry",
        "prev_year_vat_sales": "0",
        "prev_year_months_operated": 0,
    }
    assert error_of(data).code == "unsupported"


def test_missing_industry_when_an_industry_regime_is_open():
    data = case("2020-05", [ret("2019-03", 0), ret("2020-04", 100)], industry=None)
    assert error_of(data).code == "missing_industry"
    # before 2019-07 only 39号 is open and the industry is not needed
    early = case("2019-05", [ret("2019-03", 0), ret("2019-04", 100)], industry=None)
    assert decide(early)["regime"] == "CN-2019-39"
    # sales by industry are enough without a registered code
    data["taxpayer"]["sales_12m_by_industry"] = {"3411": "10"}
    assert decide(data)["regime"] == "CN-2019-84"


def test_out_of_range():
    assert error_of(with_("application_period", "2019-03")).code == "out_of_range"
    assert error_of(with_("application_period", "2031-01")).code == "out_of_range"


def test_error_codes_are_the_contract_list():
    assert set(ERROR_CODES) == {
        "invalid_json",
        "invalid_period",
        "invalid_date",
        "invalid_amount",
        "negative_amount",
        "missing_return",
        "missing_size",
        "missing_industry",
        "out_of_range",
        "unsupported",
    }
    with pytest.raises(ValueError):
        CaseError("something_else", "x")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{broken", "invalid_json"),
        (json.dumps(with_("returns.1.end_credit", "-3")), "negative_amount"),
        (json.dumps(with_("taxpayer.size", ...)), "missing_size"),
        (json.dumps(with_("application_period", "2028-02")), "out_of_range"),
    ],
)
def test_command_exit_2_with_code_and_message(data, code, tmp_path):
    path = tmp_path / "case.json"
    path.write_text(data, encoding="utf-8")
    stdout = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("refund_assess", str(path), stdout=stdout)
    assert info.value.code == 2
    out = json.loads(stdout.getvalue())
    assert out == {"error": code, "message": out["message"]}
    assert out["message"].strip()


def test_command_turns_an_unexpected_failure_into_json(tmp_path, monkeypatch):
    from refund.management.commands import refund_assess

    def boom(case):
        raise RuntimeError("boom")

    monkeypatch.setattr(refund_assess, "assess", boom)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    stdout = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("refund_assess", str(path), stdout=stdout)
    assert info.value.code == 1
    assert json.loads(stdout.getvalue())["error"] == "internal_error"
