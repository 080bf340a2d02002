"""Cases on both sides of every effective date of the refund rules."""

import pytest

from refund.rules import CaseError
from refund.tests.builders import alternatives, case, condition, decide, failed, ret, window


def one_month(tax_period: str, base: int = 100_000) -> list[dict]:
    """A base return for 2019-03 and one month's credit of 300,000, its input all from special invoices."""
    return [ret("2019-03", base), ret(tax_period, 300_000, special_invoice=10)]


def six_good_months(last: str, base: int = 0, **inputs) -> list[dict]:
    """A base return for 2019-03 and six monthly credits ending ``last`` that pass the 39号 window."""
    credits = [base + step for step in (100_000, 200_000, 300_000, 400_000, 500_000, 600_000)]
    return [ret("2019-03", base), *window(last, credits, **inputs)]


class TestStartOf39:
    def test_2019_03_is_out_of_range(self):
        with pytest.raises(CaseError) as info:
            decide(case("2019-03", [ret("2019-02", 0), ret("2019-03", 0)]))
        assert info.value.code == "out_of_range"

    def test_2019_04_is_assessed_but_no_window_before_april_2019_counts(self):
        out = decide(case("2019-04", [ret("2019-03", 100_000, special_invoice=1)]))
        assert out["regime"] == "CN-2019-39"
        assert out["eligible"] is False
        assert "six_month_positive" in failed(out)
        assert "早于2019-04" in condition(out, "six_month_positive")["detail"]
        assert out["alternatives"] == []

    def test_2019_09_window_starts_march_and_fails_2019_10_first_possible(self):
        returns = [
            ret("2019-03", 0),
            *window("2019-08", [100_000, 200_000, 300_000, 400_000, 600_000], special_invoice=10),
        ]
        early = decide(case("2019-09", returns))
        assert early["eligible"] is False
        assert failed(early) == ["six_month_positive"]
        later = decide(case("2019-10", six_good_months("2019-09", special_invoice=10)))
        assert later["eligible"] is True
        assert later["refundable_total"] == "360000.00"  # 600,000 × 1 × 60%


class TestAdvancedManufacturing2019:
    returns = [ret("2019-03", 100_000), ret("2019-04", 0, special_invoice=50_000), ret("2019-05", 300_000)]

    def test_2019_06_has_only_39(self):
        out = decide(case("2019-06", self.returns, industry="C3411"))
        assert out["regime"] == "CN-2019-39"
        assert out["eligible"] is False
        assert out["alternatives"] == []

    def test_2019_07_opens_84_for_the_listed_lines(self):
        returns = [*self.returns, ret("2019-06", 300_000)]
        out = decide(case("2019-07", returns, industry="C3411"))
        assert out["regime"] == "CN-2019-84"
        assert out["eligible"] is True
        assert out["refund_rate"] == "1.00"
        assert out["refundable_total"] == "200000.00"
        assert condition(out, "industry_share")["citation"].startswith("财政部 税务总局公告2019年第84号 第二条")

    def test_84_needs_a_listed_line(self):
        returns = [*self.returns, ret("2019-06", 300_000)]
        out = decide(case("2019-07", returns, industry="C2710"))  # 医药: only from 15号
        assert out["regime"] == "CN-2019-39"
        assert alternatives(out)["CN-2019-84"]["eligible"] is False


class TestAdvancedManufacturing2021:
    returns = [ret("2019-03", 100_000), ret("2019-04", 0, special_invoice=50_000), ret("2021-03", 300_000)]
    returns_may = [ret("2019-03", 100_000), ret("2019-04", 0, special_invoice=50_000), ret("2021-04", 300_000)]

    @pytest.mark.parametrize(
        ("period", "returns", "regime"),
        [("2021-04", "returns", "CN-2019-84"), ("2021-05", "returns_may", "CN-2021-15")],
    )
    def test_general_equipment_moves_from_84_to_15(self, period, returns, regime):
        out = decide(case(period, getattr(self, returns), industry="C3411"))
        assert out["regime"] == regime
        assert out["eligible"] is True
        assert out["refundable_total"] == "200000.00"

    def test_pharmaceuticals_only_from_2021_05(self):
        april = decide(case("2021-04", self.returns, industry="C2710"))
        assert april["regime"] == "CN-2019-39"
        assert april["eligible"] is False
        may = decide(case("2021-05", self.returns_may, industry="C2710"))
        assert may["regime"] == "CN-2021-15"
        assert may["eligible"] is True


class TestApril2022:
    inputs = {
        "special_invoice": 5_000_000,
        "toll_road_e_invoice": 1_000_000,
        "customs": 2_000_000,
        "agricultural": 2_000_000,
    }

    def test_ratio_counts_toll_road_invoices_from_2022_04(self):
        march = decide(case("2022-03", [ret("2019-03", 0), ret("2021-12", 0, **self.inputs), ret("2022-02", 100)]))
        assert march["regime"] == "CN-2019-39"
        assert march["input_ratio"] == "0.700000"  # 39号: special + customs only
        april = decide(
            case("2022-04", [ret("2019-03", 0), ret("2021-12", 0, **self.inputs), ret("2022-03", 100)], size="micro")
        )
        assert april["input_ratio"] == "0.800000"  # 14号 第八条 adds the toll-road e-invoice

    def test_small_micro_regime_opens_2022_04(self):
        returns = one_month("2022-02")
        march = decide(case("2022-03", returns, industry="F5123", size="micro"))
        assert march["regime"] == "CN-2019-39"
        assert march["eligible"] is False
        returns = one_month("2022-03")
        april = decide(case("2022-04", returns, industry="F5123", size="micro"))
        assert april["regime"] == "CN-2022-14-small-micro"
        assert april["eligible"] is True
        assert (april["refundable_incremental"], april["refundable_stock"]) == ("200000.00", "100000.00")

    def test_15_closes_after_2022_03(self):
        march = decide(case("2022-03", one_month("2022-02", base=0), industry="C3411"))
        assert march["regime"] == "CN-2021-15"
        april = decide(case("2022-04", one_month("2022-03", base=0), industry="C3411", size="large"))
        assert april["regime"] == "CN-2022-14-industry"
        assert "CN-2021-15" not in alternatives(april)


class TestStockRefundOpenings:
    """14号 第一条第（二）项 (micro 2022-04, small 2022-05), 17号 (medium 2022-05), 19号 (large 2022-06)."""

    @pytest.mark.parametrize(
        ("size", "industry", "closed", "opened"),
        [
            ("micro", "F5123", None, "2022-04"),
            ("small", "F5123", "2022-04", "2022-05"),
            ("medium", "C3411", "2022-04", "2022-05"),
            ("large", "C3411", "2022-05", "2022-06"),
        ],
    )
    def test_opening(self, size, industry, closed, opened):
        def run(period):
            tax_period = {"2022-04": "2022-03", "2022-05": "2022-04", "2022-06": "2022-05"}[period]
            return decide(case(period, one_month(tax_period), industry=industry, size=size))

        if closed:
            out = run(closed)
            assert out["eligible"] is True
            assert (out["stock_credit"], out["refundable_stock"]) == ("100000.00", "0.00")
        out = run(opened)
        assert out["refundable_stock"] == "100000.00"
        assert out["refundable_total"] == "300000.00"


class TestIndustriesAdded2022_07:
    def test_wholesale_joins_the_industry_route_from_2022_07(self):
        june = decide(case("2022-06", one_month("2022-05"), industry="F5123", size="large"))
        assert june["regime"] == "CN-2019-39"
        assert alternatives(june)["CN-2022-14-industry"]["eligible"] is False
        july = decide(case("2022-07", one_month("2022-06"), industry="F5123", size="large"))
        assert july["regime"] == "CN-2022-14-industry"
        assert july["refundable_total"] == "300000.00"  # incremental and stock, 21号 第一条

    def test_shares_of_six_and_seven_industries_add_up_only_from_2022_07(self):
        sales = {"C3411": "300", "F5123": "300", "E4710": "400"}
        june = decide(
            case(
                "2022-06",
                one_month("2022-05", base=0),
                size="large",
                taxpayer={"sales_12m_by_industry": sales},
            )
        )
        assert june["regime"] == "CN-2019-39"
        assert alternatives(june)["CN-2022-14-industry"]["eligible"] is False  # only 制造业 counts: 30%
        july = decide(
            case(
                "2022-07",
                one_month("2022-06", base=0),
                size="large",
                taxpayer={"sales_12m_by_industry": sales},
            )
        )
        assert july["regime"] == "CN-2022-14-industry"
        assert "60.00%" in condition(july, "industry_share")["detail"]


class TestSmallMicroAfter2022:
    returns_dec = one_month("2022-11")
    returns_jan = one_month("2022-12")

    def test_2022_12_needs_only_article_3(self):
        out = decide(case("2022-12", self.returns_dec, size="small"))
        assert out["regime"] == "CN-2022-14-small-micro"
        assert out["eligible"] is True
        assert "six_month_positive" not in [c["code"] for c in out["conditions"]]

    def test_2023_01_adds_the_six_month_test_by_default(self):
        out = decide(case("2023-01", self.returns_jan, size="small"))
        assert out["regime"] == "CN-2022-14-small-micro"
        assert out["eligible"] is False
        assert failed(out) == ["six_month_positive", "sixth_month_500k"]  # one month of data, increment 200,000

    def test_2023_01_passes_with_a_full_window(self):
        returns = [
            ret("2019-03", 100_000),
            *window("2022-12", [200_000, 300_000, 400_000, 500_000, 600_000, 700_000], special_invoice=10),
        ]
        out = decide(case("2023-01", returns, size="small"))
        assert out["eligible"] is True
        assert out["refundable_total"] == "700000.00"  # increment 600,000 + stock 100,000, 100%

    def test_option_general_regime_sends_them_back_to_39(self):
        returns = [
            ret("2019-03", 100_000),
            *window("2022-12", [200_000, 300_000, 400_000, 500_000, 600_000, 700_000], special_invoice=10),
        ]
        out = decide(case("2023-01", returns, size="small", options={"small_micro_after_2022": "general_regime"}))
        assert out["regime"] == "CN-2019-39"
        assert out["refundable_total"] == "360000.00"  # 600,000 × 60%
        assert "CN-2022-14-small-micro" not in alternatives(out)

    def test_the_13_industries_keep_no_window_after_2022(self):
        out = decide(case("2023-01", self.returns_jan, industry="F5123", size="small"))
        assert out["eligible"] is True
        assert out["regime"] == "CN-2022-14-industry"
        assert out["refundable_total"] == "300000.00"


class TestSeptember2025:
    def test_manufacturer_moves_from_14_to_class1(self):
        aug = decide(case("2025-08", one_month("2025-07"), industry="C3411", size="large"))
        assert aug["regime"] == "CN-2022-14-industry"
        sept = decide(case("2025-09", one_month("2025-08"), industry="C3411"))
        assert sept["regime"] == "CN-2025-7-class1"
        assert sept["base_credit"] is None
        assert sept["refundable_total"] == "300000.00"
        assert set(alternatives(sept)) == {"CN-2025-7-class2"}  # no 39号 any more, no class 3 for the 4 industries

    def test_wholesaler_loses_the_industry_route(self):
        aug = decide(case("2025-08", one_month("2025-07", base=0), industry="F5123", size="large"))
        assert aug["regime"] == "CN-2022-14-industry"
        assert aug["eligible"] is True
        sept = decide(
            case(
                "2025-09",
                [ret("2019-03", 0), ret("2024-12", 0), ret("2025-08", 300_000, special_invoice=10)],
                industry="F5123",
            )
        )
        assert sept["regime"] == "CN-2025-7-class3"
        assert sept["eligible"] is False

    def test_air_and_rail_e_invoices_count_in_the_ratio_from_2025_09(self):
        inputs = {"special_invoice": 800, "air_e_invoice": 100, "railway_e_ticket": 100}
        aug = decide(
            case(
                "2025-08",
                [ret("2019-03", 0), ret("2020-01", 0, **inputs), ret("2025-07", 1000)],
                industry="C3411",
                size="large",
            )
        )
        assert aug["input_ratio"] == "0.800000"
        sept = decide(
            case("2025-09", [ret("2019-03", 0), ret("2020-01", 0, **inputs), ret("2025-08", 1000)], industry="C3411")
        )
        assert sept["input_ratio"] == "1.000000"

    def test_size_is_no_longer_needed(self):
        out = decide(case("2025-09", [ret("2025-08", 300_000, special_invoice=10)], industry="C3411"))
        assert out["size"] is None
        assert out["eligible"] is True


class TestEndOfCoverage:
    def test_last_covered_period(self):
        out = decide(case("2027-12", [ret("2027-11", 1000, special_invoice=10)], industry="C3411"))
        assert out["regime"] == "CN-2025-7-class1"

    def test_after_the_last_covered_period(self):
        with pytest.raises(CaseError) as info:
            decide(case("2028-01", [ret("2027-12", 1000, special_invoice=10)], industry="C3411"))
        assert info.value.code == "out_of_range"
