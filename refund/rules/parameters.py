"""Every number, list and date of the refund rules, keyed by application period, with its source.

A ``Parameter`` is a sequence of ``Version``\\s. Each version is valid for the
application periods (纳税申报期 in which the 《退(抵)税申请表》 is filed) from
``valid_from`` to ``valid_to`` inclusive; ``valid_to=None`` means "until the last
period these rules cover" (``LAST_COVERED``). Looking a parameter up for a period
no version covers raises ``NotCovered`` instead of guessing.

Each version carries its legal citation (the announcement and article); the citations below name the article,
and the decision's conditions and trace repeat them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from core.contract import NotCovered  # noqa: F401  (re-exported: the rules catch it from here)
from core.contract import Parameter as DatedParameter
from core.contract import Version as DatedVersion
from core.periods import Period

T = TypeVar("T")

# --- documents --------------------------------------------------------------------------------

DOC_39 = "财政部 税务总局 海关总署公告2019年第39号"
DOC_84 = "财政部 税务总局公告2019年第84号"
DOC_15 = "财政部 税务总局公告2021年第15号"
DOC_14 = "财政部 税务总局公告2022年第14号"
DOC_17 = "财政部 税务总局公告2022年第17号"
DOC_19 = "财政部 税务总局公告2022年第19号"
DOC_21 = "财政部 税务总局公告2022年第21号"
DOC_7 = "财政部 税务总局公告2025年第7号"
STA_2019_20 = "国家税务总局公告2019年第20号"
STA_2019_45 = "国家税务总局公告2019年第45号"
STA_2022_4 = "国家税务总局公告2022年第4号"
STA_2025_20 = "国家税务总局公告2025年第20号"
MIIT_300 = "工信部联企业〔2011〕300号"
VAT_LAW = "中华人民共和国增值税法"

# --- the range of application periods the rules cover ------------------------------------------

FIRST_COVERED = Period(2019, 4)
"""The first filing period of 39号 (in force 2019-04-01). Earlier refunds (财税〔2018〕70号) are not modelled."""

LAST_COVERED = Period(2027, 12)
"""The last filing period we vouch for. 2025年第7号 has no end date and the VAT Law (in force
2026-01-01, art. 21) leaves refunds "按照国务院的规定"; its implementing regulation
(国务院令第826号) was not read, so the rules are reviewed before this date is moved."""


@dataclass(frozen=True)
class Version(DatedVersion[Period, T]):
    @property
    def last(self) -> Period:
        return self.valid_to or LAST_COVERED


@dataclass(frozen=True)
class Parameter(DatedParameter[Period, T]):
    """A parameter keyed by application period, answering nothing beyond ``LAST_COVERED``."""

    last_covered: Period | None = LAST_COVERED

    @property
    def first(self) -> Period:
        return self.versions[0].valid_from

    @property
    def last(self) -> Period:
        return self.versions[-1].last


def _p(text: str) -> Period:
    return Period.parse(text)


# --- which regimes are open in which application periods (the contract's regime table) ---------

REGIME_PERIODS: dict[str, Parameter[bool]] = {
    "CN-2019-39": Parameter(
        "regime.CN-2019-39",
        "增量留抵退税 60%（一般纳税人）",
        (
            Version(
                _p("2019-04"),
                _p("2025-08"),
                True,
                f"{DOC_39} 第八条（自2019年4月1日起）；自2025年9月纳税申报期起由{DOC_7}第一条取代",
            ),
        ),
    ),
    "CN-2019-84": Parameter(
        "regime.CN-2019-84",
        "部分先进制造业增量留抵退税 100%",
        (
            Version(
                _p("2019-07"),
                _p("2021-04"),
                True,
                f"{DOC_84} 第一条（自2019年6月1日起，2019年7月及以后纳税申报期）；"
                f"自2021年5月纳税申报期起由{DOC_15}的先进制造业名单吸收",
            ),
        ),
    ),
    "CN-2021-15": Parameter(
        "regime.CN-2021-15",
        "先进制造业增量留抵退税 100%",
        (
            Version(
                _p("2021-05"),
                _p("2022-03"),
                True,
                f"{DOC_15} 第一条（自2021年4月1日起，2021年5月及以后纳税申报期）；自2022年4月1日起由{DOC_14}取代",
            ),
        ),
    ),
    "CN-2022-14-small-micro": Parameter(
        "regime.CN-2022-14-small-micro",
        "小微企业增量及一次性存量留抵退税 100%",
        (
            Version(
                _p("2022-04"),
                _p("2025-08"),
                True,
                f"{DOC_14} 第一条（自2022年4月纳税申报期起）；自2025年9月纳税申报期起由{DOC_7}取代",
            ),
        ),
    ),
    "CN-2022-14-industry": Parameter(
        "regime.CN-2022-14-industry",
        "制造业等行业增量及一次性存量留抵退税 100%",
        (
            Version(
                _p("2022-04"),
                _p("2025-08"),
                True,
                f"{DOC_14} 第二条；{DOC_21} 第一条（自2022年7月纳税申报期起增加7个行业）；"
                f"自2025年9月纳税申报期起由{DOC_7}取代",
            ),
        ),
    ),
    "CN-2025-7-class1": Parameter(
        "regime.CN-2025-7-class1",
        "制造业等4个行业按月退还期末留抵税额 100%",
        (Version(_p("2025-09"), None, True, f"{DOC_7} 第一条第（一）项（自2025年9月纳税申报期起）"),),
    ),
    "CN-2025-7-class2": Parameter(
        "regime.CN-2025-7-class2",
        "房地产开发经营业新增加留抵税额 60%",
        (Version(_p("2025-09"), None, True, f"{DOC_7} 第一条第（二）项（自2025年9月纳税申报期起）"),),
    ),
    "CN-2025-7-class3": Parameter(
        "regime.CN-2025-7-class3",
        "其他纳税人新增加留抵税额 60%/30%",
        (Version(_p("2025-09"), None, True, f"{DOC_7} 第一条第（三）项（自2025年9月纳税申报期起）"),),
    ),
}

# --- common conditions ------------------------------------------------------------------------

CREDIT_LEVELS_ALLOWED: Parameter[frozenset[str]] = Parameter(
    "credit_levels_allowed",
    "纳税信用级别须为A级或B级（M级新设立企业不符合）；以提交《退(抵)税申请表》时的级别为准",
    (
        Version(
            FIRST_COVERED,
            _p("2025-08"),
            frozenset({"A", "B"}),
            f"{DOC_39} 第八条第（一）项第2目；{DOC_84} 第一条第（二）项；{DOC_15} 第一条第（二）项；"
            f"{DOC_14} 第三条第（一）项",
        ),
        Version(_p("2025-09"), None, frozenset({"A", "B"}), f"{DOC_7} 第二条第（一）项；{STA_2025_20} 第三条"),
    ),
)

COMPLIANCE_LOOKBACK_MONTHS: Parameter[int] = Parameter(
    "compliance_lookback_months",
    "骗税、虚开与偷税处罚的回溯期间：申请退税前36个月",
    (
        Version(
            FIRST_COVERED,
            _p("2025-08"),
            36,
            f"{DOC_39} 第八条第（一）项第3、4目；{DOC_14} 第三条第（二）、（三）项",
        ),
        Version(_p("2025-09"), None, 36, f"{DOC_7} 第二条第（二）、（三）项"),
    ),
)

EVASION_PENALTIES_ALLOWED: Parameter[int] = Parameter(
    "evasion_penalties_allowed",
    "申请退税前36个月因偷税被税务机关处罚的次数上限（两次及以上不符合，即最多一次）",
    (
        Version(FIRST_COVERED, _p("2025-08"), 1, f"{DOC_39} 第八条第（一）项第4目；{DOC_14} 第三条第（三）项"),
        Version(_p("2025-09"), None, 1, f"{DOC_7} 第二条第（三）项"),
    ),
)

IMMEDIATE_REFUND_SINCE: Parameter[date] = Parameter(
    "immediate_refund_since",
    "自该日起享受即征即退、先征后返（退）政策的纳税人不得申请留抵退税",
    (
        Version(
            FIRST_COVERED, _p("2025-08"), date(2019, 4, 1), f"{DOC_39} 第八条第（一）项第5目；{DOC_14} 第三条第（四）项"
        ),
        Version(_p("2025-09"), None, date(2019, 4, 1), f"{DOC_7} 第二条第（四）项"),
    ),
)

IMMEDIATE_REFUND_REPAYMENT_ROUTE: Parameter[bool] = Parameter(
    "immediate_refund_repayment_route",
    "已享受即征即退、先征后返（退）的纳税人一次性缴回全部税款后可以申请留抵退税",
    (
        Version(FIRST_COVERED, _p("2022-03"), False, f"{DOC_39} 第八条第（一）项第5目（未规定缴回途径）"),
        Version(_p("2022-04"), _p("2025-08"), True, f"{DOC_14} 第十条（须于2022年10月31日前一次性缴回）"),
        Version(_p("2025-09"), None, True, f"{DOC_7} 第二条第（四）项（“本公告另有规定的除外”）"),
    ),
)

# --- comparison bases ---------------------------------------------------------------------------

BASE_CREDIT_PERIOD: Parameter[Period] = Parameter(
    "base_credit_period",
    "增量留抵税额的比较基数：2019年3月31日期末留抵税额（2019年3月税款所属期申报表）",
    (
        Version(FIRST_COVERED, _p("2025-08"), _p("2019-03"), f"{DOC_39} 第八条第（二）项；{DOC_14} 第四条"),
        Version(_p("2025-09"), None, _p("2019-03"), f"{DOC_7} 第一条第（二）项"),
    ),
)

STOCK_REFUND_RESETS_BASE: Parameter[bool] = Parameter(
    "stock_refund_resets_base",
    "获得一次性存量留抵退税后，增量留抵税额为当期期末留抵税额（比较基数视为0），存量留抵税额为0",
    (
        Version(_p("2022-04"), _p("2025-08"), True, f"{DOC_14} 第四条第（二）项、第五条第（二）项"),
        Version(_p("2025-09"), None, True, f"{DOC_14} 第四条第（二）项（沿用至{DOC_7}第一条第（二）项的比较）"),
    ),
)

# --- the six-month test -----------------------------------------------------------------------------

SIX_MONTH_FIRST_MONTH: Parameter[Period] = Parameter(
    "six_month_first_month",
    "连续六个月的计算自2019年4月税款所属期起",
    (Version(FIRST_COVERED, None, _p("2019-04"), f"{DOC_39} 第八条第（一）项第1目"),),
)

SIX_MONTH_MINIMUM: Parameter[Decimal] = Parameter(
    "six_month_minimum",
    "第六个月（按季纳税的第二季度）增量或新增加留抵税额不低于50万元",
    (
        Version(FIRST_COVERED, _p("2025-08"), Decimal("500000"), f"{DOC_39} 第八条第（一）项第1目"),
        Version(_p("2025-09"), None, Decimal("500000"), f"{DOC_7} 第一条第（二）、（三）项"),
    ),
)

SMALL_MICRO_ART3_ONLY_UNTIL: Parameter[Period] = Parameter(
    "small_micro_art3_only_until",
    "小微企业在此申报期之前（含）仅适用第三条的退税条件，不看连续六个月",
    (Version(_p("2022-04"), _p("2025-08"), _p("2022-12"), f"{DOC_14} 第一条第（一）项（“在2022年12月31日前”）"),),
)

# --- input composition ratio (进项构成比例) ----------------------------------------------------------

RATIO_FIRST_MONTH: Parameter[Period] = Parameter(
    "ratio_first_month",
    "进项构成比例自2019年4月税款所属期累计至申请退税前一税款所属期",
    (
        Version(FIRST_COVERED, _p("2022-03"), _p("2019-04"), f"{DOC_39} 第八条第（三）项（自2019年4月起累计）"),
        Version(_p("2022-04"), _p("2025-08"), _p("2019-04"), f"{DOC_14} 第八条（自2019年4月起累计）"),
        Version(_p("2025-09"), None, _p("2019-04"), f"{DOC_7} 第四条（第一项、第二项自2019年4月起累计）"),
    ),
)

VOUCHER_KINDS = (
    "special_invoice",
    "motor_vehicle_invoice",
    "customs",
    "tax_payment_certificate",
    "toll_road_e_invoice",
    "air_e_invoice",
    "railway_e_ticket",
    "agricultural",
    "other",
)

RATIO_NUMERATOR_KINDS: Parameter[frozenset[str]] = Parameter(
    "ratio_numerator_kinds",
    "进项构成比例分子所计的扣税凭证；分母为同期全部已抵扣进项税额；进项税额转出不扣减",
    (
        Version(
            FIRST_COVERED,
            _p("2022-03"),
            frozenset({"special_invoice", "motor_vehicle_invoice", "customs", "tax_payment_certificate"}),
            f"{DOC_39} 第八条第（三）项（增值税专用发票含税控机动车销售统一发票、"
            f"海关进口增值税专用缴款书、"
            f"解缴税款完税凭证）；转出不扣减：{STA_2019_45} 第三条",
        ),
        Version(
            _p("2022-04"),
            _p("2025-08"),
            frozenset(
                {
                    "special_invoice",
                    "motor_vehicle_invoice",
                    "customs",
                    "tax_payment_certificate",
                    "toll_road_e_invoice",
                }
            ),
            f"{DOC_14} 第八条（增加收费公路通行费增值税电子普通发票）、"
            f"第十四条（亦适用于按39号公告退税的纳税人）；"
            f"转出不扣减：{STA_2022_4} 第二条",
        ),
        Version(
            _p("2025-09"),
            None,
            frozenset(
                {
                    "special_invoice",
                    "motor_vehicle_invoice",
                    "customs",
                    "tax_payment_certificate",
                    "toll_road_e_invoice",
                    "air_e_invoice",
                    "railway_e_ticket",
                }
            ),
            f"{DOC_7} 第四条（七类增值税扣税凭证）；转出不扣减：{STA_2025_20} 第四条",
        ),
    ),
)

VOUCHER_GROUPS: dict[str, tuple[str, ...]] = {
    "core": ("special_invoice", "motor_vehicle_invoice", "customs", "tax_payment_certificate"),
    "toll": ("toll_road_e_invoice",),
    "travel": ("air_e_invoice", "railway_e_ticket"),
    "other": ("agricultural", "other"),
}
"""The voucher kinds that every version of ``RATIO_NUMERATOR_KINDS`` counts or leaves out together.

Each numerator is a union of these groups (a test checks it), so the screening's running sums
(``refund.models.ReturnState``) keep one sum per group instead of one per kind. A new version
that splits a group needs a new group here, and a column there."""


# --- refund rates -------------------------------------------------------------------------------------

RATE_GENERAL_39: Parameter[Decimal] = Parameter(
    "rate_general_39",
    "39号公告增量留抵退税的退还比例",
    (Version(FIRST_COVERED, _p("2025-08"), Decimal("0.60"), f"{DOC_39} 第八条第（三）项"),),
)

RATE_FULL: Parameter[Decimal] = Parameter(
    "rate_full",
    "全额退还（100%）",
    (
        Version(_p("2019-07"), _p("2021-04"), Decimal("1.00"), f"{DOC_84} 第四条"),
        Version(_p("2021-05"), _p("2022-03"), Decimal("1.00"), f"{DOC_15} 第四条"),
        Version(_p("2022-04"), _p("2025-08"), Decimal("1.00"), f"{DOC_14} 第八条"),
        Version(_p("2025-09"), None, Decimal("1.00"), f"{DOC_7} 第一条第（一）项、第四条"),
    ),
)

RATE_REAL_ESTATE: Parameter[Decimal] = Parameter(
    "rate_real_estate",
    "房地产开发经营业纳税人第六个月新增加留抵税额的退还比例",
    (Version(_p("2025-09"), None, Decimal("0.60"), f"{DOC_7} 第一条第（二）项、第四条"),),
)

CLASS3_TIERS: Parameter[tuple[tuple[Decimal | None, Decimal], ...]] = Parameter(
    "class3_tiers",
    "其他纳税人新增加留抵税额分段退还比例：不超过1亿元（含）的部分60%，超过部分30%",
    (
        Version(
            _p("2025-09"),
            None,
            ((Decimal("100000000"), Decimal("0.60")), (None, Decimal("0.30"))),
            f"{DOC_7} 第一条第（三）项、第四条",
        ),
    ),
)

# --- industries (GB/T 4754-2017; the announcements name categories, the codes are our mapping) -------

INDUSTRY_SHARE_ABOVE: Parameter[Decimal] = Parameter(
    "industry_share_above",
    "所列行业增值税销售额占全部增值税销售额的比重须超过此值（恰为50%不符合）；几个所列行业相加计算",
    (
        Version(_p("2019-07"), _p("2021-04"), Decimal("0.5"), f"{DOC_84} 第二条"),
        Version(_p("2021-05"), _p("2022-03"), Decimal("0.5"), f"{DOC_15} 第二条"),
        Version(_p("2022-04"), _p("2025-08"), Decimal("0.5"), f"{DOC_14} 第七条；{DOC_21} 第二条"),
        Version(_p("2025-09"), None, Decimal("0.5"), f"{DOC_7} 第三条"),
    ),
)


@dataclass(frozen=True)
class IndustryItem:
    """One listed industry: a GB/T 4754-2017 section letter (门类), division (大类) or group (中类)."""

    code: str  # "C", "34" or "701"
    name: str


def _items(*pairs: tuple[str, str]) -> tuple[IndustryItem, ...]:
    return tuple(IndustryItem(code, name) for code, name in pairs)


_ADVANCED_2019 = _items(
    ("30", "非金属矿物制品"), ("34", "通用设备"), ("35", "专用设备"), ("39", "计算机、通信和其他电子设备")
)
_ADVANCED_2021 = (
    *_ADVANCED_2019,
    *_items(
        ("27", "医药"),
        ("28", "化学纤维"),
        ("37", "铁路、船舶、航空航天和其他运输设备"),
        ("38", "电气机械和器材"),
        ("40", "仪器仪表"),
    ),
)
_INDUSTRIES_14 = _items(
    ("C", "制造业"),
    ("M", "科学研究和技术服务业"),
    ("D", "电力、热力、燃气及水生产和供应业"),
    ("65", "软件和信息技术服务业"),
    ("77", "生态保护和环境治理业"),
    ("G", "交通运输、仓储和邮政业"),
)
INDUSTRIES_21_ADDED = _items(
    ("F", "批发和零售业"),
    ("A", "农、林、牧、渔业"),
    ("H", "住宿和餐饮业"),
    ("O", "居民服务、修理和其他服务业"),
    ("P", "教育"),
    ("Q", "卫生和社会工作"),
    ("R", "文化、体育和娱乐业"),
)

ADVANCED_MANUFACTURING: Parameter[tuple[IndustryItem, ...]] = Parameter(
    "industries.advanced_manufacturing",
    "（部分）先进制造业：生产并销售所列产品的销售额占比超过50%",
    (
        Version(_p("2019-07"), _p("2021-04"), _ADVANCED_2019, f"{DOC_84} 第二条"),
        Version(_p("2021-05"), _p("2022-03"), _ADVANCED_2021, f"{DOC_15} 第二条"),
    ),
)

INDUSTRIES_2022: Parameter[tuple[IndustryItem, ...]] = Parameter(
    "industries.2022",
    "制造业等行业（2022年4月起6个，2022年7月纳税申报期起增加批发零售业等7个，共13个）",
    (
        Version(_p("2022-04"), _p("2022-06"), _INDUSTRIES_14, f"{DOC_14} 第二条、第七条"),
        Version(
            _p("2022-07"),
            _p("2025-08"),
            (*_INDUSTRIES_14, *INDUSTRIES_21_ADDED),
            f"{DOC_14} 第二条、第七条；{DOC_21} 第一条、第二条",
        ),
    ),
)

INDUSTRIES_CLASS1: Parameter[tuple[IndustryItem, ...]] = Parameter(
    "industries.2025_class1",
    "制造业等4个行业",
    (
        Version(
            _p("2025-09"),
            None,
            _items(
                ("C", "制造业"),
                ("M", "科学研究和技术服务业"),
                ("65", "软件和信息技术服务业"),
                ("77", "生态保护和环境治理业"),
            ),
            f"{DOC_7} 第一条第（一）项、第三条",
        ),
    ),
)

INDUSTRIES_REAL_ESTATE: Parameter[tuple[IndustryItem, ...]] = Parameter(
    "industries.2025_real_estate",
    "房地产开发经营业（销售额含预收款）",
    (Version(_p("2025-09"), None, _items(("701", "房地产开发经营")), f"{DOC_7} 第一条第（二）项、第三条"),),
)

# --- the one-time stock refund of 2022 (存量留抵退税): from which filing period, by route and size ------


@dataclass(frozen=True)
class StockOpening:
    period: Period
    citation: str


STOCK_REFUND_OPENS: Parameter[dict[str, dict[str, StockOpening]]] = Parameter(
    "stock_refund_opens",
    "一次性存量留抵退税可申请的起始纳税申报期（按途径和企业规模）",
    (
        Version(
            _p("2022-04"),
            _p("2025-08"),
            {
                "small_micro": {
                    "micro": StockOpening(_p("2022-04"), f"{DOC_14} 第一条第（二）项"),
                    "small": StockOpening(_p("2022-05"), f"{DOC_14} 第一条第（二）项"),
                },
                # 制造业等6个行业 of 14号 art. 2; small and micro enterprises take the stock refund under art. 1.
                "industry": {
                    "micro": StockOpening(_p("2022-04"), f"{DOC_14} 第一条第（二）项"),
                    "small": StockOpening(_p("2022-05"), f"{DOC_14} 第一条第（二）项"),
                    "medium": StockOpening(_p("2022-05"), f"{DOC_14} 第二条第（二）项，{DOC_17} 第二条提前至2022年5月"),
                    "large": StockOpening(_p("2022-06"), f"{DOC_14} 第二条第（二）项，{DOC_19} 第一条提前至2022年6月"),
                },
                # the 7 industries added by 21号: every size from the 2022-07 filing period.
                "industry_21": {
                    size: StockOpening(_p("2022-07"), f"{DOC_21} 第一条")
                    for size in ("micro", "small", "medium", "large")
                },
            },
            f"{DOC_14} 第一条第（二）项、第二条第（二）项；{DOC_17} 第二条；{DOC_19} 第一条；{DOC_21} 第一条",
        ),
    ),
)

# --- enterprise size (14号 art. 6; 工信部联企业〔2011〕300号) -------------------------------------------------

WAN = Decimal("10000")


@dataclass(frozen=True)
class SizeRow:
    """One row of 300号 art. 4, employees dropped: lower limits in yuan of revenue (Y) and/or assets (Z).

    ``limits[indicator] = (large, medium, small)`` lower limits; below ``small`` is micro.
    Large/medium/small must reach every listed lower limit, micro needs only one indicator
    below the small limit (300号 art. 4, last paragraph).
    """

    name: str
    limits: dict[str, tuple[Decimal, Decimal, Decimal]]


def _row(name: str, **limits: tuple[int, int, int]) -> SizeRow:
    return SizeRow(name, {k: tuple(Decimal(v) * WAN for v in vals) for k, vals in limits.items()})


SIZE_ROWS: Parameter[dict[str, SizeRow | None]] = Parameter(
    "size_rows",
    "中小微企业划型：营业收入（Y，用上一会计年度增值税销售额）与资产总额（Z，上年末），不看从业人员",
    (
        Version(
            _p("2022-04"),
            _p("2025-08"),
            {
                "agriculture": _row("农、林、牧、渔业", revenue=(20000, 500, 50)),
                "industry": _row("工业", revenue=(40000, 2000, 300)),
                "construction": _row("建筑业", revenue=(80000, 6000, 300), assets=(80000, 5000, 300)),
                "wholesale": _row("批发业", revenue=(40000, 5000, 1000)),
                "retail": _row("零售业", revenue=(20000, 500, 100)),
                "transport": _row("交通运输业", revenue=(30000, 3000, 200)),
                "warehousing": _row("仓储业", revenue=(30000, 1000, 100)),
                "postal": _row("邮政业", revenue=(30000, 2000, 100)),
                "accommodation": _row("住宿业", revenue=(10000, 2000, 100)),
                "catering": _row("餐饮业", revenue=(10000, 2000, 100)),
                "information_transmission": _row("信息传输业", revenue=(100000, 1000, 100)),
                "software_it": _row("软件和信息技术服务业", revenue=(10000, 1000, 50)),
                "real_estate_development": _row(
                    "房地产开发经营", revenue=(200000, 1000, 100), assets=(10000, 5000, 2000)
                ),
                "property_management": _row("物业管理", revenue=(5000, 1000, 500)),
                "leasing_business_services": _row("租赁和商务服务业", assets=(120000, 8000, 100)),
                # 其他未列明行业: 300号 uses employees only, so 14号 art. 6 sends it to the fallback.
                "other": None,
            },
            f"{DOC_14} 第六条；{MIIT_300} 第四条",
        ),
    ),
)

SIZE_FALLBACK: Parameter[tuple[Decimal, Decimal, Decimal]] = Parameter(
    "size_fallback",
    "未采用营业收入或资产总额指标的行业：增值税销售额（年）1亿元以下为中型、2000万元以下为小型、100万元以下为微型（均不含本数）",
    (
        Version(
            _p("2022-04"),
            _p("2025-08"),
            (Decimal("100000000"), Decimal("20000000"), Decimal("1000000")),
            f"{DOC_14} 第六条",
        ),
    ),
)

# --- adjustments to the period-end credit ----------------------------------------------------------------

CREDIT_ADJUSTMENTS_CITATION = (
    f"{STA_2019_20} 第九条（以最近一期申报表期末留抵税额为基础，扣减已审批未申报的免抵退应退税额和欠税）"
)

ALL_PARAMETERS: tuple[Parameter, ...] = (
    *REGIME_PERIODS.values(),
    CREDIT_LEVELS_ALLOWED,
    COMPLIANCE_LOOKBACK_MONTHS,
    EVASION_PENALTIES_ALLOWED,
    IMMEDIATE_REFUND_SINCE,
    IMMEDIATE_REFUND_REPAYMENT_ROUTE,
    BASE_CREDIT_PERIOD,
    STOCK_REFUND_RESETS_BASE,
    SIX_MONTH_FIRST_MONTH,
    SIX_MONTH_MINIMUM,
    SMALL_MICRO_ART3_ONLY_UNTIL,
    RATIO_FIRST_MONTH,
    RATIO_NUMERATOR_KINDS,
    RATE_GENERAL_39,
    RATE_FULL,
    RATE_REAL_ESTATE,
    CLASS3_TIERS,
    INDUSTRY_SHARE_ABOVE,
    ADVANCED_MANUFACTURING,
    INDUSTRIES_2022,
    INDUSTRIES_CLASS1,
    INDUSTRIES_REAL_ESTATE,
    STOCK_REFUND_OPENS,
    SIZE_ROWS,
    SIZE_FALLBACK,
)
