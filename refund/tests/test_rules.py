"""The rules piece by piece: size, industry share, periods, compliance windows, windows, options, rounding."""

import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.periods import Period
from refund.rules import assess, parse_case
from refund.rules.conditions import CONDITION_ORDER, CONDITION_TITLES
from refund.rules.inputs import SizeInputs
from refund.rules.options import OPTION_SPECS
from refund.rules.regimes import class3_refund
from refund.rules.size import classify
from refund.tests.builders import alternatives, case, condition, decide, failed, ret, window

SIZE_PERIOD = Period(2022, 5)


def size_of(row, sales=None, assets=None, months=None):
    inputs = SizeInputs(
        industry=row,
        prev_year_vat_sales=None if sales is None else Decimal(sales),
        prev_year_months_operated=months,
        total_assets_prev_year_end=None if assets is None else Decimal(assets),
    )
    return classify(inputs, SIZE_PERIOD).size


class TestSize:
    def test_sta_example_construction_drops_to_small(self):
        # 建筑业: revenue 6400万 ≥ 6000万 but assets 4700万 < 5000万 → small (STA Q&A, golden G15)
        assert size_of("construction", 64_000_000, 47_000_000) == "small"
        assert size_of("construction", 64_000_000, 50_000_000) == "medium"
        assert size_of("construction", 800_000_000, 800_000_000) == "large"
        assert size_of("construction", 800_000_000, 2_999_999) == "micro"  # any one indicator below the small limit

    @pytest.mark.parametrize(
        ("sales", "size"),
        [
            ("19999999.99", "small"),
            ("20000000", "medium"),
            ("399999999.99", "medium"),
            ("400000000", "large"),
            ("2999999.99", "micro"),
        ],
    )
    def test_industry_row_boundaries(self, sales, size):
        assert size_of("industry", sales) == size

    @pytest.mark.parametrize(
        ("sales", "size"),
        [
            ("999999.99", "micro"),
            ("1000000", "small"),
            ("19999999.99", "small"),
            ("20000000", "medium"),
            ("100000000", "large"),
        ],
    )
    def test_fallback_for_other_industries(self, sales, size):
        # 14号 第六条: 100万元以下 micro, 2000万元以下 small, 1亿元以下 medium, 不含本数
        assert size_of("other", sales) == size
        assert size_of(None, sales) == size

    def test_part_year_sales_are_annualised(self):
        # 600,000 over 6 months → 1,200,000 a year → small under the fallback, not micro
        assert size_of("other", 600_000, months=6) == "small"
        assert size_of("other", 600_000, months=12) == "micro"

    def test_assets_only_row(self):
        assert size_of("leasing_business_services", assets=79_999_999) == "small"
        assert size_of("leasing_business_services", assets=80_000_000) == "medium"

    def test_real_estate_development_row(self):
        assert size_of("real_estate_development", 50_000_000, 60_000_000) == "medium"
        assert size_of("real_estate_development", 50_000_000, 40_000_000) == "small"
        assert size_of("real_estate_development", 50_000_000, 19_999_999) == "micro"


class TestIndustryShare:
    def returns(self, period="2022-04"):
        return [ret("2019-03", 0), ret(period, 100_000, special_invoice=10)]

    def test_exactly_half_fails(self):
        sales = {"C3411": "500", "E4710": "500"}
        out = decide(case("2022-05", self.returns(), size="large", taxpayer={"sales_12m_by_industry": sales}))
        assert alternatives(out)["CN-2022-14-industry"]["eligible"] is False
        sales = {"C3411": "500.01", "E4710": "499.99"}
        out = decide(case("2022-05", self.returns(), size="large", taxpayer={"sales_12m_by_industry": sales}))
        assert out["regime"] == "CN-2022-14-industry"

    def test_code_with_or_without_section_letter(self):
        with_letter = decide(
            case("2022-05", self.returns(), size="large", taxpayer={"sales_12m_by_industry": {"C3411": "1"}})
        )
        without = decide(
            case("2022-05", self.returns(), size="large", taxpayer={"sales_12m_by_industry": {"3411": "1"}})
        )
        assert with_letter["regime"] == without["regime"] == "CN-2022-14-industry"
        bare = decide(case("2022-05", self.returns(), industry="3411", size="large"))
        assert bare["regime"] == "CN-2022-14-industry"

    def test_division_level_lists(self):
        # 65 软件和信息技术服务业 is listed, 64 互联网 is not; 77 生态保护 is listed, 78 公共设施 is not
        assert (
            decide(case("2022-05", self.returns(), industry="I6510", size="large"))["regime"] == "CN-2022-14-industry"
        )
        assert decide(case("2022-05", self.returns(), industry="I6410", size="large"))["regime"] == "CN-2019-39"
        assert (
            decide(case("2022-05", self.returns(), industry="N7710", size="large"))["regime"] == "CN-2022-14-industry"
        )
        assert decide(case("2022-05", self.returns(), industry="N7810", size="large"))["regime"] == "CN-2019-39"

    def test_real_estate_is_group_701_only(self):
        base = [ret("2019-03", 0), ret("2024-12", 0)]
        months = window("2025-09", [100_000] * 6, special_invoice=10)
        developer = decide(case("2025-10", base + months, industry="K7010"))
        assert developer["regime"] == "CN-2025-7-class2"
        agent = decide(case("2025-10", base + months, industry="K7030"))  # 房地产中介
        assert agent["regime"] == "CN-2025-7-class3"

    def test_zero_sales_fall_back_to_the_registered_industry(self):
        out = decide(
            case(
                "2022-05",
                self.returns(),
                industry="C3411",
                size="large",
                taxpayer={"sales_12m_by_industry": {"E4710": "0"}},
            )
        )
        assert out["regime"] == "CN-2022-14-industry"
        assert "登记行业" in condition(out, "industry_share")["detail"]


class TestCompliance:
    returns = [ret("2019-03", 100_000), ret("2022-04", 200_000, special_invoice=10)]

    def run(self, **compliance):
        data = case("2022-05", self.returns, size="small", application_date="2022-05-10", compliance=compliance)
        return decide(data)

    def test_one_evasion_penalty_is_allowed_two_are_not(self):
        assert self.run(tax_evasion_penalty_dates=["2021-06-01"])["eligible"] is True
        out = self.run(tax_evasion_penalty_dates=["2021-06-01", "2020-01-01"])
        assert failed(out) == ["evasion_penalties_under_2_36m"]

    def test_36_months_count_back_from_the_application_date(self):
        assert failed(self.run(tax_evasion_penalty_dates=["2019-05-10", "2021-01-01"])) == [
            "evasion_penalties_under_2_36m"
        ]
        assert self.run(tax_evasion_penalty_dates=["2019-05-09", "2021-01-01"])["eligible"] is True
        assert failed(self.run(refund_fraud_or_false_invoice_dates=["2019-05-10"])) == ["no_fraud_36m"]
        assert self.run(refund_fraud_or_false_invoice_dates=["2019-05-09"])["eligible"] is True
        assert self.run(refund_fraud_or_false_invoice_dates=["2022-05-11"])["eligible"] is True  # after applying

    def test_immediate_refund_blocks_unless_repaid_under_14(self):
        assert failed(self.run(immediate_refund_since_2019_04=True)) == ["no_immediate_refund"]
        out = self.run(immediate_refund_since_2019_04=True, immediate_refund_repaid=True)
        assert out["eligible"] is True
        assert "第十条" in condition(out, "no_immediate_refund")["citation"]

    def test_no_repayment_route_before_2022_04(self):
        data = case(
            "2021-06",
            [ret("2019-03", 0), ret("2021-05", 100, special_invoice=1)],
            industry="C3411",
            compliance={"immediate_refund_since_2019_04": True, "immediate_refund_repaid": True},
        )
        assert failed(decide(data)) == ["no_immediate_refund"]

    @pytest.mark.parametrize("level", ["A", "B", "M", "C", "D", "b"])
    def test_credit_levels(self, level):
        out = decide(case("2022-05", self.returns, size="small", level=level))
        assert out["eligible"] is (level.upper() in "AB")


class TestQuarterlyFilers:
    def quarterly(self, period, returns, **kw):
        return case(period, returns, taxpayer={"filing_frequency": "quarterly"}, **kw)

    def test_two_quarters_replace_six_months(self):
        returns = [ret("2019-03", 100_000), ret("2019-06", 300_000, special_invoice=10), ret("2019-09", 700_000)]
        out = decide(self.quarterly("2019-10", returns, size="large"))
        assert out["tax_period"] == "2019-09"
        assert out["eligible"] is True
        assert out["refundable_total"] == "360000.00"  # (700,000 − 100,000) × 60%
        assert "连续2个季度" in condition(out, "six_month_positive")["detail"]

    def test_the_first_quarter_must_start_in_april_2019(self):
        returns = [ret("2019-03", 100_000), ret("2019-06", 700_000, special_invoice=10)]
        out = decide(self.quarterly("2019-07", returns, size="large"))
        assert "six_month_positive" in failed(out)

    def test_a_month_between_quarter_ends_uses_the_last_quarter(self):
        returns = [ret("2019-03", 100_000), ret("2022-03", 300_000, special_invoice=10)]
        out = decide(self.quarterly("2022-05", returns, size="small"))
        assert out["tax_period"] == "2022-03"
        assert out["refundable_total"] == "300000.00"


class TestWindowsAndPreviousRefunds:
    def test_39_window_not_reused_after_a_refund(self):
        returns = [ret("2019-03", 0), *window("2020-03", [600_000] * 12, special_invoice=10)]
        prev = [{"application_period": "2019-12", "regime": "CN-2019-39", "kind": "incremental", "amount": "1"}]
        overlap = decide(case("2020-03", returns[:-1], previous_refunds=prev))
        assert failed(overlap) == ["window_not_reused"]
        fresh = decide(case("2020-06", [*returns, *window("2020-05", [600_000] * 2)], previous_refunds=prev))
        assert fresh["eligible"] is True

    def test_2025_window_option(self):
        # refund in 2025-10 counted 2025-04 … 2025-09; an application in 2026-01 would count 2025-07 … 2025-12
        returns = [ret("2019-03", 0), ret("2024-12", 0), *window("2025-12", [800_000] * 9, special_invoice=10)]
        prev = [{"application_period": "2025-10", "regime": "CN-2025-7-class3", "kind": "incremental", "amount": "1"}]
        data = case("2026-01", returns, industry="F5123", previous_refunds=prev)
        out = decide(data)
        assert out["regime"] == "CN-2025-7-class3"
        assert failed(out) == ["window_not_reused"]
        data["options"] = {"window_reuse_2025": "reuse_allowed"}
        out = decide(data)
        assert out["eligible"] is True
        detail = condition(out, "window_not_reused")["detail"]
        assert "不限制重复计算" in detail and "reuse_allowed" not in detail
        assert out["refundable_total"] == "480000.00"  # 800,000 × 1 × 60%

    def test_stock_refund_obtained_resets_the_increment(self):
        prev = [
            {"application_period": "2022-05", "regime": "CN-2022-14-small-micro", "kind": "stock", "amount": "100000"}
        ]
        out = decide(
            case(
                "2022-07",
                [ret("2019-03", 100_000), ret("2022-06", 80_000, special_invoice=1)],
                size="small",
                previous_refunds=prev,
            )
        )
        assert (out["stock_credit"], out["incremental_credit"], out["base_credit"]) == ("0.00", "80000.00", "0.00")
        assert out["refundable_total"] == "80000.00"


class TestAdjustmentsAndRounding:
    def test_arrears_and_export_refund_reduce_the_credit(self):
        data = case(
            "2022-05",
            [ret("2019-03", 100_000), ret("2022-04", 500_000, special_invoice=1)],
            size="small",
            adjustments={"approved_unbooked_export_refund": "150000", "vat_arrears": "50000"},
        )
        out = decide(data)
        assert out["current_credit"] == "300000.00"
        assert out["refundable_total"] == "300000.00"

    def test_adjustments_below_zero_show_zero(self):
        data = case(
            "2022-05",
            [ret("2019-03", 100_000), ret("2022-04", 50_000, special_invoice=1)],
            size="small",
            adjustments={"vat_arrears": "80000"},
        )
        out = decide(data)
        assert out["current_credit"] == "0.00"
        assert out["eligible"] is False
        assert failed(out) == ["credit_positive"]

    def test_each_part_rounded_half_up_and_summed(self):
        # ratio 1/3: 100,000.05 × 1/3 = 33,333.35 exactly; 0.015 × 1/3 ...
        returns = [ret("2019-03", "0.03"), ret("2022-04", "0.06", special_invoice=1, other=2)]
        out = decide(case("2022-05", returns, size="small"))
        # incremental 0.03 / 3 = 0.01, stock 0.03 / 3 = 0.01
        assert (out["refundable_incremental"], out["refundable_stock"], out["refundable_total"]) == (
            "0.01",
            "0.01",
            "0.02",
        )
        returns = [ret("2019-03", "0.015"), ret("2022-04", "0.030", special_invoice=1)]
        out = decide(case("2022-05", returns, size="small"))
        assert (out["refundable_incremental"], out["refundable_stock"], out["refundable_total"]) == (
            "0.02",
            "0.02",
            "0.04",
        )

    def test_ratio_shown_to_six_places_amounts_use_the_exact_ratio(self):
        returns = [ret("2019-03", 0), ret("2022-04", 3_000_000, special_invoice=2, agricultural=1)]
        out = decide(case("2022-05", returns, size="small"))
        assert out["input_ratio"] == "0.666667"
        assert out["refundable_total"] == "2000000.00"  # not 2,000,001.00


class TestClass3:
    def test_tiers(self):
        tiers = ((Decimal("100000000"), Decimal("0.60")), (None, Decimal("0.30")))
        assert class3_refund(Decimal("100000000"), tiers) == (Decimal("60000000.00"), Decimal("0.6"))
        gross, blended = class3_refund(Decimal("150000000"), tiers)
        assert gross == Decimal("75000000")
        assert blended == Decimal("0.5")
        assert class3_refund(Decimal("-5"), tiers)[0] == 0

    def test_ratio_period_option(self):
        returns = [
            ret("2019-03", 0),
            ret("2019-04", 0, agricultural=9_000_000),
            ret("2024-12", 0, special_invoice=1_000_000),
            *window("2025-09", [1_000_000] * 6, special_invoice=1),
        ]
        default = decide(case("2025-10", returns, industry="F5123"))
        assert default["input_ratio"] == "1.000000"  # from 2024-01: the 2019 agricultural input is outside
        assert default["refundable_total"] == "600000.00"
        from_2019 = decide(case("2025-10", returns, industry="F5123", options={"class3_ratio_start": "2019_04"}))
        assert from_2019["input_ratio"] == "0.100001"
        assert from_2019["refundable_total"] == "60000.32"  # 600,000 × 1,000,006 / 10,000,006

    def test_real_estate_may_fall_back_to_class3(self):
        returns = [ret("2019-03", 5_000_000), ret("2024-12", 0), *window("2025-09", [1_000_000] * 6, special_invoice=1)]
        out = decide(case("2025-10", returns, industry="K7010"))
        assert out["regime"] == "CN-2025-7-class3"
        assert out["eligible"] is True
        assert alternatives(out)["CN-2025-7-class2"]["eligible"] is False

    def test_real_estate_without_last_year_end_return_is_still_assessed(self):
        returns = [ret("2019-03", 0), *window("2025-09", [1_000_000] * 6, special_invoice=1)]
        out = decide(case("2025-10", returns, industry="K7010"))
        assert out["regime"] == "CN-2025-7-class2"
        assert out["refundable_total"] == "600000.00"
        assert alternatives(out)["CN-2025-7-class3"]["eligible"] is False


class TestOutputShape:
    def test_every_condition_has_a_citation_and_chinese_detail(self):
        for data in (
            case("2019-10", [ret("2019-03", 0), ret("2019-09", 1)]),
            case("2022-05", [ret("2019-03", 0), ret("2022-04", 1)], size="small"),
            case("2025-10", [ret("2019-03", 0), ret("2024-12", 0), ret("2025-09", 1)], industry="K7010"),
        ):
            out = decide(data)
            assert out["conditions"]
            for item in out["conditions"]:
                assert "公告" in item["citation"] or "选项" in item["citation"]
                assert any("\u4e00" <= ch <= "\u9fff" for ch in item["detail"])

    def test_trace_flag_adds_trace_and_options_after_the_contract_keys(self, tmp_path):
        path = tmp_path / "case.json"
        path.write_text(
            json.dumps(case("2022-05", [ret("2019-03", 0), ret("2022-04", 1)], size="small")), encoding="utf-8"
        )
        stdout = io.StringIO()
        call_command("refund_assess", str(path), "--trace", stdout=stdout)
        out = json.loads(stdout.getvalue())
        assert list(out)[-2:] == ["trace", "options"]
        assert out["options"]["small_micro_after_2022"] == "six_month_test"
        assert any("申请退税前一税款所属期2022-04" in line for line in out["trace"])


def _codes_in(text: str) -> list[str]:
    """What an officer must never read in a detail, citation or trace line: regime codes, option keys and
    values, condition codes, min/max, and amounts without separators or without the space before 元."""
    found = re.findall(r"CN-\d{4}-[\w-]+", text)
    words = {*CONDITION_ORDER, *OPTION_SPECS}
    words |= {value for spec in OPTION_SPECS.values() for value in spec.choices}
    found += [word for word in words if re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text)]
    found += re.findall(r"(?<![A-Za-z])(?:min|max)\(", text)
    found += re.findall(r"\d{4,}\.\d{2}", text)  # 13645125.29: no thousands separators
    found += re.findall(r"\d元", text)  # 13,645,125.29元: no space before 元
    return found


def _traced(data: dict) -> dict:
    return assess(parse_case(json.loads(json.dumps(data), parse_float=Decimal))).as_contract_dict(with_trace=True)


class TestWordsForOfficers:
    """Details, citations and the trace are shown to officers as they are: Chinese titles, never codes."""

    CASES = (
        # 39号 six-month test with an earlier refund's window and big amounts
        case("2019-10", [ret("2019-03", 0), *window("2019-09", [13_645_125.29] * 6, special_invoice=10)]),
        # 14号 small-micro: stock = the smaller of credit and base (was "min(...)"), with adjustments
        case(
            "2022-05",
            [ret("2019-03", 2_500_000, special_invoice=1), ret("2022-04", 13_645_125.29, special_invoice=9)],
            size="small",
            adjustments={"approved_unbooked_export_refund": "1000.00", "vat_arrears": "0"},
        ),
        # 2023 small-micro after 2022: the option's citation
        case("2023-07", [ret("2019-03", 0), *window("2023-06", [800_000] * 6, special_invoice=1)], size="micro"),
        # 2025 class 3 beside class 2, window option, class-3 ratio option (was "max(...)")
        case(
            "2026-01",
            [ret("2019-03", 0), ret("2024-12", 0), *window("2025-12", [300_000_000] * 9, special_invoice=10)],
            previous_refunds=[
                {"application_period": "2025-10", "regime": "CN-2025-7-class3", "kind": "incremental", "amount": "1"}
            ],
            options={"window_reuse_2025": "reuse_allowed", "class3_ratio_start": "2019_04"},
        ),
    )

    def test_condition_titles_cover_every_condition_code_in_chinese(self):
        assert set(CONDITION_TITLES) == set(CONDITION_ORDER)
        for title in CONDITION_TITLES.values():
            assert title and not _codes_in(title) and not re.search(r"[A-Za-z]{3,}", title)

    def test_options_have_chinese_titles_and_cite_only_the_law(self):
        for spec in OPTION_SPECS.values():
            texts = [spec.title, spec.question, *spec.choices.values()]
            for text in texts:
                assert text and not re.search(r"[A-Za-z]{2,}", text), text
                assert "核实" not in text and "笔记" not in text, text

    @pytest.mark.parametrize("data", CASES, ids=["39", "14-stock", "14-after-2022", "7-class2-class3"])
    def test_details_citations_and_trace_use_titles_and_separated_amounts(self, data):
        out = _traced(data)
        texts = [*out["trace"]]
        for item in out["conditions"]:
            texts += [item["detail"], item["citation"]]
        for text in texts:
            assert _codes_in(text) == [], text
        assert out["trace"], out

    def test_trace_names_options_alternatives_and_amounts_in_chinese(self):
        out = _traced(self.CASES[3])
        trace = "\n".join(out["trace"])
        assert "规则选项“2025年第7号公告已用于退税的月份能否重复计算”：不限制重复计算" in trace
        assert "规则选项“其他纳税人进项构成比例的计算期间”：与第一项、第二项相同" in trace
        assert "（默认）" in trace  # small_micro_after_2022 keeps its default
        assert "同时试算“房地产开发经营业留抵退税”：不符合（所列行业销售额占比超过50%" in trace
        assert "300,000,000.00 元" in trace
        assert "不超过1亿元（含）的部分 × 60% + 超过1亿元的部分 × 30%" in trace

    def test_stock_is_the_smaller_of_credit_and_base_in_words(self):
        trace = "\n".join(_traced(self.CASES[1])["trace"])
        smaller = "当期期末留抵税额 13,644,125.29 元与2019年3月31日期末留抵税额 2,500,000.00 元孰小 = 2,500,000.00 元"
        assert smaller in trace
        assert "当期期末留抵税额 13,645,125.29 元，扣减已审批未申报免抵退应退税额 1,000.00 元" in trace

    def test_alternatives_name_the_regime_and_the_failed_conditions_by_title(self):
        lines = [line for line in _traced(self.CASES[1])["trace"] if line.startswith("同时试算")]
        expected = (
            "同时试算“增量留抵退税（60%）”：不符合（连续六个月（按季申报为两个季度）留抵税额满足大于零的条件），"
            "可退 0.00 元"
        )
        assert expected in lines
