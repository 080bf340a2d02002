import pytest

from notify.labels import error_text, report_error_message
from notify.tests.conftest import GOLDEN
from notify.text import (
    InvalidMobile,
    MissingVariable,
    display_body,
    mask_mobile,
    normalise_mobile,
    render,
    segment_count,
)


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


def test_template_variables_are_shown_in_the_bureau_s_words():
    body = "{taxpayer_name}：您单位{period}的留抵退税，请联系{branch_name}；{custom}"
    assert display_body(body) == "{纳税人名称}：您单位{所属期}的留抵退税，请联系{主管税务分局}；{custom}"
    assert render(body, {"taxpayer_name": "甲", "period": "2026年3月", "branch_name": "城东", "custom": "x"}) == (
        "甲：您单位2026年3月的留抵退税，请联系城东；x"  # the stored text and rendering keep the keys
    )
    with pytest.raises(MissingVariable) as missing:
        render(body, {"custom": "x"})
    assert missing.value.args[0] == "纳税人名称、所属期、主管税务分局"
    assert missing.value.names == ["taxpayer_name", "period", "branch_name"]


def test_errors_read_as_chinese_and_a_gateway_code_only_after_its_meaning():
    assert error_text("opted_out", "号码已退订") == "号码已退订"
    assert error_text("invalid_mobile", "手机号码无效：138****0000") == "手机号码无效：138****0000"
    assert error_text("gateway_unreachable", "无法连接短信网关：[Errno 111] Connection refused") == "无法连接短信网关"
    assert error_text("http_503", "短信网关服务异常（HTTP 503）") == "短信网关服务异常（状态码 503）"
    assert error_text("IllegalSignId", "无效的签名编码") == "无效的签名编码（网关代码 IllegalSignId）"
    assert error_text("UNDELIV", "状态报告：UNDELIV") == "状态报告：无法送达（空号、停机或关机等）（状态码 UNDELIV）"
    assert error_text("CM:2007", report_error_message("CM:2007")) == "状态报告：未送达（状态码 CM:2007）"
    assert error_text("Whatever", "网关返回未知代码") == "网关返回未知代码（网关代码 Whatever）"
    assert error_text("", "") == ""


def test_the_credit_templates_variables_are_shown_in_the_bureau_s_words_too():
    """The repair notice's {level} and the credit warnings' variables showed as English keys on the send pages."""
    body = "{taxpayer_name}：贵单位{recorded_on}的“{indicator_name}”，{points}分，{deadline}前纠正；现为{level}级"
    shown = "{纳税人名称}：贵单位{记录日期}的“{失信行为}”，{分值}分，{纠正期限}前纠正；现为{信用级别}级"
    assert display_body(body) == shown
