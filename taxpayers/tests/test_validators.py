"""Identifier, mobile, industry and period validation against the vectors in data/identifier_vectors.json
(copied from the domain notes, protocols-golden.json)."""

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from taxpayers.industry import parse_industry_code
from taxpayers.validators import (
    normalise_mobile,
    taxpayer_id_warnings,
    validate_industry_code,
    validate_mobile,
    validate_taxpayer_id,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "identifier_vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("code", VECTORS["uscc_valid"])
def test_published_valid_codes_pass(code):
    assert validate_taxpayer_id(code) == code


@pytest.mark.parametrize("code", [v["code"] for v in VECTORS["uscc_letter_prefixed"]])
def test_letter_prefixed_codes_pass_when_check_passes(code):
    assert validate_taxpayer_id(code) == code


@pytest.mark.parametrize(
    "code",
    [v["code"] for v in VECTORS["uscc_invalid"]]
    + [
        "91110000100003962T",  # ICBC with a wrong region
        "91110108MA01712M9L",
        "91110000722601458H",
        "9111000060003IOZSV",
        "91350100I000100Y43",
        "91440300192203821",  # 17 characters
        "12345",
        "",
    ],
)
def test_invalid_codes_are_rejected_in_chinese(code):
    with pytest.raises(ValidationError) as exc:
        validate_taxpayer_id(code)
    message = exc.value.messages[0]
    assert "纳税人识别号" in message


def test_normalises_case_and_spaces():
    assert validate_taxpayer_id(" 9144 0300 1922 0382 16 ") == "914403001922038216"
    assert validate_taxpayer_id("9144030071526726xg") == "9144030071526726XG"


def test_legacy_15_and_20_character_numbers_are_checked_for_format():
    assert validate_taxpayer_id("330106143256789") == "330106143256789"
    assert validate_taxpayer_id("33010619800101123400") == "33010619800101123400"
    with pytest.raises(ValidationError):
        validate_taxpayer_id("33010614325678-")


def test_failing_embedded_org_code_is_a_warning_not_a_rejection():
    code = VECTORS["uscc_suspicious"][0]["code"]
    assert validate_taxpayer_id(code) == code
    assert taxpayer_id_warnings(code)
    assert taxpayer_id_warnings("914403001922038216") == []


def _expected_mobile(case) -> bool:
    normalised = normalise_mobile(case["input"])
    if normalised == case["input"]:
        return case["strict_libphonenumber"]
    same = [c for c in VECTORS["mobile_cases"] if c["input"] == normalised]
    return bool(same and same[0]["strict_libphonenumber"])


@pytest.mark.parametrize("case", VECTORS["mobile_cases"], ids=lambda c: c["input"])
def test_mobile_numbers(case):
    if _expected_mobile(case):
        assert validate_mobile(case["input"]) == normalise_mobile(case["input"])
    else:
        with pytest.raises(ValidationError):
            validate_mobile(case["input"])


def test_mobile_normalisation_drops_country_code_and_separators():
    assert validate_mobile("+86 138-0013-8000") == "13800138000"
    assert validate_mobile("8613800138000") == "13800138000"


@pytest.mark.parametrize(
    ("raw", "code", "section", "division"),
    [("C3411", "C3411", "C", "34"), ("3411", "C3411", "C", "34"), ("c34", "C34", "C", "34"),
     ("6513", "I6513", "I", "65"), ("K7010", "K7010", "K", "70"), ("01", "A01", "A", "01")],
)
def test_industry_codes_with_or_without_section_letter(raw, code, section, division):
    industry = parse_industry_code(raw)
    assert (industry.code, industry.section, industry.division) == (code, section, division)
    assert validate_industry_code(raw) == code


@pytest.mark.parametrize("raw", ["F3411", "9911", "3", "C341100", "", "X01"])
def test_invalid_industry_codes(raw):
    with pytest.raises(ValidationError):
        validate_industry_code(raw)


def test_industry_tree_has_the_standard_counts():
    from core.industry import _tree, sections

    assert len(sections()) == 20
    assert len(_tree()) == 97
