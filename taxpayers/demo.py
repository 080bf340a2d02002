"""The demo county (示范县): a deterministic generator of taxpayers, VAT returns and compliance records.

Why it exists: the demo, the browser tests and the benchmarks need a county that looks like
a real one — a few thousand general taxpayers over five branches, a realistic industry and
size mix, ratings mostly B, monthly returns since 2019-03 whose credits make a plausible share
eligible under each refund regime (domain/refund-policy.md), some penalties and 即征即退 cases.

The generator is pure: plain rows from ``random.Random(seed)``, no ORM, no clock (``today`` is an
argument, so tests can pin "last month"). ``seed_demo`` loads the rows (bulk_create on SQLite,
COPY on PostgreSQL). Same seed, same data; each taxpayer draws from its own generator seeded
from the master, so a run of 300 is the first 300 taxpayers of a run of 3,000.

Everything is synthetic: identifiers pass the GB 32100-2015 check (and the embedded GB 11714
organisation code passes its own check) but belong to nobody; the region code 330599 is not
a real county.

Amounts inside the generator are integer fen (分) — exact and fast at a million taxpayers;
the loaders turn them into Decimal yuan (``fen_to_decimal``, ``fen_to_text``). Never float.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from .validators import USCC_CHARSET, uscc_check_char

# Demo only: every demo login shares this password (printed by ``demo_banner``). Never use
# the demo users in production; ``seed_demo`` refuses to run on a database that has data.
DEMO_PASSWORD = "jjd-demo-2026"  # noqa: S105

FIRST_PERIOD = (2019, 3)  # the 2019-03-31 credit is the base of the incremental-credit regimes
REGION_CODES = ("330599", "330599", "330599", "330571")  # synthetic county; 330571 = its development zone

# --------------------------------------------------------------------------------------------
# The organisation: bureau, sections, branches, and one demo login per role
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgUnit:
    code: str
    name: str
    kind: str  # accounts.models.Branch.Kind values: bureau / section / branch
    sort_order: int
    parent_code: str | None = None


BUREAU = OrgUnit("13305990000", "示范县税务局", "bureau", 0)
SECTIONS = (
    OrgUnit("13305990100", "税政一股", "section", 10, BUREAU.code),
    OrgUnit("13305990200", "纳税服务股", "section", 20, BUREAU.code),
    OrgUnit("13305990300", "风险管理股", "section", 30, BUREAU.code),
    OrgUnit("13305990400", "信息中心", "section", 40, BUREAU.code),
)
_BRANCH_NAMES = (
    "城东税务分局",
    "城西税务分局",
    "城南税务分局",
    "城北税务分局",
    "经济开发区税务分局",
    "临港税务分局",
    "高新区税务分局",
    "东湖税务分局",
    "青山税务分局",
    "白塔税务分局",
)
DEVELOPMENT_ZONE_INDEX = 4  # 经济开发区: where most factories are
MAX_BRANCHES = 30


def branch_units(count: int) -> tuple[OrgUnit, ...]:
    """The 税源管理分局 of the demo county; the first five are 城东/城西/城南/城北/经济开发区."""
    if not 1 <= count <= MAX_BRANCHES:
        raise ValueError(f"branches must be between 1 and {MAX_BRANCHES}")
    units = []
    for k in range(count):
        name = _BRANCH_NAMES[k] if k < len(_BRANCH_NAMES) else f"第{k + 1}税务分局"
        units.append(OrgUnit(f"133059905{k + 1:02d}", name, "branch", 100 + k, BUREAU.code))
    return tuple(units)


def org_units(branches: int) -> tuple[OrgUnit, ...]:
    return (BUREAU, *SECTIONS, *branch_units(branches))


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str  # accounts.roles.RoleCode value
    unit_code: str
    full_name: str
    mobile: str
    is_staff: bool = False


_BRANCH_OFFICER_NAMES = ("赵磊", "钱伟", "郑海燕", "冯涛", "何丽", "许斌", "邓洁", "曹阳", "彭辉", "曾倩")


def demo_users(branches: int) -> tuple[DemoUser, ...]:
    """One memorable login per role (branch officers: one per branch), all with ``DEMO_PASSWORD``."""
    section = {unit.name: unit.code for unit in SECTIONS}
    users = [
        DemoUser("refund", "refund_officer", section["税政一股"], "王立新", "13905710101"),
        *(
            DemoUser(
                f"branch{k + 1}",
                "branch_officer",
                unit.code,
                _BRANCH_OFFICER_NAMES[k] if k < len(_BRANCH_OFFICER_NAMES) else f"分局专管员{k + 1}",
                f"139057102{k + 1:02d}",
            )
            for k, unit in enumerate(branch_units(branches))
        ),
        DemoUser("service", "service_officer", section["纳税服务股"], "陈静", "13905710301"),
        DemoUser("risk", "risk_officer", section["风险管理股"], "周敏", "13905710401"),
        # 纳税信用 is run by the 纳税服务股 in most county bureaus.
        DemoUser("credit", "credit_officer", section["纳税服务股"], "吴婷", "13905710501"),
        DemoUser("leader", "supervisor", BUREAU.code, "李建国", "13905710601"),
        DemoUser("admin", "admin", section["信息中心"], "孙浩", "13905710701", is_staff=True),
    ]
    return tuple(users)


# --------------------------------------------------------------------------------------------
# Industries (GB/T 4754-2017) with what drives their returns
# --------------------------------------------------------------------------------------------

# Credit profiles ("archetypes"): how a taxpayer's input tax compares with its output tax.
PAYER = "payer"  # ordinary payer: input below output, tax every month, no credit
SEASONAL = "seasonal"  # purchases peak before sales: credit builds and is used up within the year
STOCK = "stock"  # carried a credit at 2019-03 (存量留抵) that lingers; many took the 2022 stock refund
GROWER = "grower"  # runs of six+ months of rising credit (the 2019 No.39 / 2025 No.7 class-3 test)
INVESTOR = "investor"  # capital spending: large credits that persist (2025 No.7 class 1 in manufacturing)
DEVELOPER = "developer"  # real-estate development: credit builds while building, used at delivery
EXPORTER = "exporter"  # zero-rated exports keep a credit; 免抵退 reduces it outside these columns


@dataclass(frozen=True)
class IndustryProfile:
    key: str
    weight: float
    codes: tuple[str, ...]  # GB/T 4754-2017 small-class codes with the section letter
    words: tuple[str, ...]  # 行业词 for company names
    size_row: str  # taxpayers.models.SizeIndustry value (工信部联企业〔2011〕300号 row)
    rate_bp: int  # output VAT rate in basis points
    median_sales_wan: int  # median annual VAT sales, 万元
    archetypes: dict[str, float]
    zone_bias: float = 1.0  # weight multiplier for the development-zone branch
    agri_share: tuple[float, float] = (0.0, 0.0)  # input tax from agricultural-product invoices
    immediate_refund_share: float = 0.008  # share enjoying 即征即退 (software, resource recycling)
    size_row_by_code: dict[str, str] = field(default_factory=dict)
    individual_share: float = 0.0  # 个体工商户 (USCC type 92)
    cooperative_share: float = 0.0  # 农民专业合作社 (USCC type 93)


INDUSTRIES: tuple[IndustryProfile, ...] = (
    IndustryProfile(
        "machinery",
        11,
        ("C3411", "C3441", "C3443", "C3451", "C3484", "C3525", "C3599", "C3670"),
        ("机械", "精密机械", "机电", "阀门", "泵业", "轴承", "模具", "汽车部件", "传动设备"),
        "industry",
        1300,
        1300,
        {PAYER: 0.42, SEASONAL: 0.05, STOCK: 0.12, GROWER: 0.09, INVESTOR: 0.22, EXPORTER: 0.10},
        zone_bias=3.0,
    ),
    IndustryProfile(
        "light_industry",
        9,
        ("C1751", "C1819", "C1952", "C2110", "C2231", "C2319", "C2411", "C2927", "C3389", "C3761"),
        ("纺织", "服饰", "鞋业", "家具", "包装", "印务", "文具", "塑业", "日用品", "车业"),
        "industry",
        1300,
        900,
        {PAYER: 0.50, SEASONAL: 0.10, STOCK: 0.12, GROWER: 0.08, INVESTOR: 0.10, EXPORTER: 0.10},
        zone_bias=2.0,
    ),
    IndustryProfile(
        "food",
        3,
        ("C1311", "C1351", "C1391", "C1411", "C1514"),
        ("粮油", "食品", "肉类加工", "淀粉", "酒业", "茶业"),
        "industry",
        1300,
        1500,
        {PAYER: 0.40, SEASONAL: 0.30, STOCK: 0.10, GROWER: 0.08, INVESTOR: 0.07, EXPORTER: 0.05},
        zone_bias=1.5,
        agri_share=(0.25, 0.75),
    ),
    IndustryProfile(
        "materials",
        7,
        ("C2614", "C2641", "C2669", "C2710", "C2720", "C2740", "C2822", "C2922", "C3021", "C3061", "C3130", "C3311"),
        ("化工", "新材料", "涂料", "制药", "药业", "化纤", "塑胶", "建材", "水泥制品", "玻纤", "钢构"),
        "industry",
        1300,
        1800,
        {PAYER: 0.45, SEASONAL: 0.05, STOCK: 0.12, GROWER: 0.10, INVESTOR: 0.20, EXPORTER: 0.08},
        zone_bias=3.0,
    ),
    IndustryProfile(
        "electrical",
        5,
        ("C3813", "C3825", "C3831", "C3841", "C3851", "C3972", "C3982", "C4011"),
        ("电机", "光伏", "电缆", "新能源", "电器", "半导体", "电子", "自动化仪表"),
        "industry",
        1300,
        1600,
        {PAYER: 0.36, SEASONAL: 0.04, STOCK: 0.12, GROWER: 0.10, INVESTOR: 0.26, EXPORTER: 0.12},
        zone_bias=3.0,
    ),
    IndustryProfile(
        "recycling",
        0.7,
        ("C4210", "C4220"),
        ("再生资源", "资源利用"),
        "industry",
        1300,
        1500,
        {PAYER: 0.55, SEASONAL: 0.10, STOCK: 0.10, GROWER: 0.10, INVESTOR: 0.15},
        zone_bias=2.0,
        immediate_refund_share=0.4,
    ),
    IndustryProfile(
        "mining",
        0.8,
        ("B1011", "B1019"),
        ("矿业", "石料"),
        "industry",
        1300,
        1500,
        {PAYER: 0.60, STOCK: 0.15, GROWER: 0.10, INVESTOR: 0.15},
    ),
    IndustryProfile(
        "energy",
        1,
        ("D4416", "D4430", "D4610"),
        ("新能源", "热电", "水务"),
        "industry",
        1300,
        3000,
        {PAYER: 0.30, STOCK: 0.15, GROWER: 0.15, INVESTOR: 0.40},
        zone_bias=1.5,
    ),
    IndustryProfile(
        "construction",
        8,
        ("E4710", "E4790", "E4812", "E4813", "E4910", "E5011", "E5012"),
        ("建设", "建筑工程", "路桥", "市政工程", "安装工程", "装饰工程"),
        "construction",
        900,
        2000,
        {PAYER: 0.55, SEASONAL: 0.10, STOCK: 0.15, GROWER: 0.12, INVESTOR: 0.08},
    ),
    IndustryProfile(
        "wholesale",
        14,
        ("F5121", "F5123", "F5132", "F5164", "F5165", "F5174", "F5175", "F5176"),
        ("贸易", "商贸", "供应链", "物资", "建材", "五金", "电气", "科技贸易"),
        "wholesale",
        1300,
        1100,
        {PAYER: 0.64, SEASONAL: 0.14, STOCK: 0.10, GROWER: 0.08, INVESTOR: 0.04},
        individual_share=0.05,
    ),
    IndustryProfile(
        "retail",
        7,
        ("F5211", "F5212", "F5251", "F5261", "F5265", "F5271"),
        ("百货", "超市", "大药房", "汽车销售服务", "石化", "电器"),
        "retail",
        1300,
        600,
        {PAYER: 0.75, SEASONAL: 0.10, STOCK: 0.08, GROWER: 0.04, INVESTOR: 0.03},
        individual_share=0.15,
    ),
    IndustryProfile(
        "transport",
        4,
        ("G5431", "G5821", "G5990", "G6010"),
        ("物流", "运输", "货运代理", "仓储"),
        "transport",
        900,
        1200,
        {PAYER: 0.55, SEASONAL: 0.05, STOCK: 0.10, GROWER: 0.10, INVESTOR: 0.20},
        size_row_by_code={"G5990": "warehousing", "G6010": "postal"},
    ),
    IndustryProfile(
        "hospitality",
        2.5,
        ("H6110", "H6210"),
        ("酒店", "餐饮管理"),
        "accommodation",
        600,
        800,
        {PAYER: 0.70, SEASONAL: 0.12, STOCK: 0.10, INVESTOR: 0.08},
        size_row_by_code={"H6210": "catering"},
        individual_share=0.10,
    ),
    IndustryProfile(
        "software",
        3,
        ("I6513", "I6531", "I6540", "I6560"),
        ("软件", "信息技术", "网络科技", "数字科技"),
        "software_it",
        600,
        800,
        {PAYER: 0.60, SEASONAL: 0.06, STOCK: 0.12, GROWER: 0.10, INVESTOR: 0.12},
        zone_bias=1.5,
        immediate_refund_share=0.3,
    ),
    IndustryProfile(
        "real_estate",
        3,
        ("K7010",),
        ("房地产开发", "置业", "置地"),
        "real_estate_development",
        900,
        8000,
        {DEVELOPER: 0.85, PAYER: 0.15},
    ),
    IndustryProfile(
        "property",
        1.5,
        ("K7020",),
        ("物业管理", "物业服务"),
        "property_management",
        600,
        600,
        {PAYER: 0.75, SEASONAL: 0.10, STOCK: 0.10, GROWER: 0.05},
    ),
    IndustryProfile(
        "business_services",
        5,
        ("L7111", "L7212", "L7259"),
        ("汽车租赁", "投资管理", "广告", "企业管理咨询"),
        "leasing_business_services",
        600,
        700,
        {PAYER: 0.68, SEASONAL: 0.08, STOCK: 0.10, GROWER: 0.07, INVESTOR: 0.07},
    ),
    IndustryProfile(
        "research",
        3,
        ("M7320", "M7483", "M7519"),
        ("科技", "工程设计", "技术服务", "检测"),
        "other",
        600,
        700,
        {PAYER: 0.50, SEASONAL: 0.05, STOCK: 0.15, GROWER: 0.15, INVESTOR: 0.15},
        zone_bias=1.5,
    ),
    IndustryProfile(
        "environment",
        1,
        ("N7721", "N7723"),
        ("环保科技", "环境工程"),
        "other",
        600,
        1000,
        {PAYER: 0.35, STOCK: 0.15, GROWER: 0.15, INVESTOR: 0.35},
    ),
    IndustryProfile(
        "agriculture",
        2,
        ("A0141", "A0313", "A0412"),
        ("农业开发", "生态农业", "畜牧", "水产"),
        "agriculture",
        900,
        600,
        {PAYER: 0.30, SEASONAL: 0.40, STOCK: 0.15, GROWER: 0.05, INVESTOR: 0.10},
        agri_share=(0.1, 0.5),
        cooperative_share=0.3,
    ),
    IndustryProfile(
        "repair",
        1,
        ("O8111",),
        ("汽车服务", "机电维修"),
        "other",
        1300,
        500,
        {PAYER: 0.80, SEASONAL: 0.05, STOCK: 0.10, GROWER: 0.05},
        individual_share=0.2,
    ),
    IndustryProfile(
        "social",
        1,
        ("P8391", "Q8411", "R9030"),
        ("职业培训", "医疗管理", "文化旅游"),
        "other",
        600,
        500,
        {PAYER: 0.75, SEASONAL: 0.10, STOCK: 0.10, INVESTOR: 0.05},
    ),
)

# Secondary businesses for the few multi-industry taxpayers (sales_by_industry is filled in).
_SECOND_INDUSTRY = {
    "machinery": "F5174",
    "light_industry": "F5132",
    "materials": "F5165",
    "electrical": "F5175",
    "construction": "C3311",
    "wholesale": "C3484",
    "real_estate": "K7020",
    "energy": "E4910",
}

# 2022 No.14 / No.21 industry route (13 industries) and the 2025 No.7 "制造业等4个行业", by section
# letter or division; used only to decide which taxpayers plausibly took refunds in the past.
_SECTIONS_2022 = set("CMDGFAHOPQR")
_DIVISIONS_2022 = {"65", "77"}
_SECTIONS_2025_CLASS1 = set("CM")
_DIVISIONS_2025_CLASS1 = {"65", "77"}

# --------------------------------------------------------------------------------------------
# Enterprise size: 工信部联企业〔2011〕300号, revenue (Y) and total-assets (Z) ladders, 万元
# --------------------------------------------------------------------------------------------

# row: ((indicator, large_min, medium_min, small_min), ...); "fallback" = VAT-sales ladder of
# 2022 No.14 art. 6 for rows whose standard uses employees only.
_SIZE_LADDERS: dict[str, tuple[tuple[str, int, int, int], ...]] = {
    "agriculture": (("Y", 20000, 500, 50),),
    "industry": (("Y", 40000, 2000, 300),),
    "construction": (("Y", 80000, 6000, 300), ("Z", 80000, 5000, 300)),
    "wholesale": (("Y", 40000, 5000, 1000),),
    "retail": (("Y", 20000, 500, 100),),
    "transport": (("Y", 30000, 3000, 200),),
    "warehousing": (("Y", 30000, 1000, 100),),
    "postal": (("Y", 30000, 2000, 100),),
    "accommodation": (("Y", 10000, 2000, 100),),
    "catering": (("Y", 10000, 2000, 100),),
    "information_transmission": (("Y", 100000, 1000, 100),),
    "software_it": (("Y", 10000, 1000, 50),),
    "real_estate_development": (("Y", 200000, 1000, 100), ("Z", 10000, 5000, 2000)),
    "property_management": (("Y", 5000, 1000, 500),),
    "leasing_business_services": (("Z", 120000, 8000, 100),),
    "other": (("Y", 10000, 2000, 100),),
}


def enterprise_size(size_row: str, sales_fen: int, assets_fen: int) -> str:
    """micro / small / medium / large: every listed lower limit must be met, else one tier down."""
    values = {"Y": sales_fen / 1_000_000, "Z": assets_fen / 1_000_000}  # fen -> 万元
    ladder = _SIZE_LADDERS.get(size_row, _SIZE_LADDERS["other"])
    for tier, position in (("large", 1), ("medium", 2), ("small", 3)):
        if all(values[row[0]] >= row[position] for row in ladder):
            return tier
    return "micro"


# --------------------------------------------------------------------------------------------
# Names, identifiers and mobiles
# --------------------------------------------------------------------------------------------

_REGION_WORDS = ("示范县", "示范", "浙江", "东湖", "青山", "临江", "白塔", "双溪", "南岭", "凤鸣", "清河", "新安")
_REGION_WEIGHTS = (24, 8, 16, 6, 6, 6, 6, 6, 6, 6, 5, 5)
_TRADE_FIRST = "恒鑫华盛宏嘉瑞永昌泰金博天新远宇汇通海润安裕兴锦明辰峰德信立东方正中利达顺和丰祥"
_TRADE_SECOND = "达源泰盛华丰宇诚信通利昌隆瑞祥鑫程辉峰远发业成安茂康创捷晟腾"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁沈任姚卢"
    "傅钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛段雷龙黎史陶贺毛郝顾龚邵万钱戴严莫孔向常汤康易乔"
)
_SURNAME_WEIGHTS = tuple(max(1.0, 30.0 - i * 1.5) if i < 20 else 1.0 for i in range(len(_SURNAMES)))
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌辉鹏宇浩婷雪琳晨欣佳俊凯亮林峰海燕萍波宁飞慧颖倩"
)
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997
_ORG_BODY_CHARS = USCC_CHARSET  # 0-9 and capitals without I, O, Z, S, V
_NEW_ORG_SPACE = 31**6  # "MA" + 6 characters (codes issued since the 2015 reform)
_OLD_ORG_SPACE = 10**8  # 8 digits (older organisation codes)


def org_code(body8: str) -> str:
    """The 9-character GB 11714-1997 code: 8 body characters and their check character."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(remainder, str(remainder))


def make_identifier(index: int, *, seed: int, kind: str, region: str, new_style: bool) -> str:
    """A valid 18-character 统一社会信用代码, unique per ``index`` (a bijection scrambles the order).

    kind: "1" enterprise, "2" 个体工商户, "3" 农民专业合作社 (second character; the first, 9, is
    the market-regulation registration authority).
    """
    if new_style:
        n = (index * 387_420_489 + seed * 7919) % _NEW_ORG_SPACE  # 387420489 = 9^9, coprime with 31
        chars = []
        for _ in range(6):
            n, digit = divmod(n, 31)
            chars.append(_ORG_BODY_CHARS[digit])
        body = "MA" + "".join(reversed(chars))
    else:
        body = f"{(index * 48_271 + seed * 104_729 + 10_000_000) % _OLD_ORG_SPACE:08d}"  # 48271 coprime with 10
    first17 = f"9{kind}{region}{org_code(body)}"
    return first17 + uscc_check_char(first17)


def person_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    length = 1 if rng.random() < 0.35 else 2
    return surname + "".join(rng.choice(_GIVEN) for _ in range(length))


def mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


class _NameBook:
    """Keeps company names unique across the county (as the registry would)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.branch_serial = Counter()

    def company(self, rng: random.Random, profile: IndustryProfile, kind: str, owner: str, large: bool) -> str:
        for attempt in range(12):
            region = rng.choices(_REGION_WORDS, weights=_REGION_WEIGHTS)[0]
            trade = rng.choice(_TRADE_FIRST) + rng.choice(_TRADE_SECOND)
            if attempt >= 6:
                trade += rng.choice(_TRADE_SECOND)
            word = rng.choice(profile.words)
            if kind == "2":
                name = f"示范县{owner}{word}{rng.choice(('经营部', '商行', '店'))}"
            elif kind == "3":
                name = f"示范县{trade}{word}专业合作社"
            else:
                suffix = "股份有限公司" if large and rng.random() < 0.5 else "有限公司"
                name = f"{region}{trade}{word}{suffix}"
            if name not in self.used:
                self.used.add(name)
                return name
        # A crowded registry: a branch office (分公司) of an existing company is a taxpayer too.
        self.branch_serial[name] += 1
        name = f"{name}示范第{self.branch_serial[name]}分公司"
        self.used.add(name)
        return name


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------

RETURN_FIELDS = (
    "period",
    "filed_on",
    "sales_total",
    "sales_by_industry",
    "output_tax",
    "input_special_invoice",
    "input_motor_vehicle_invoice",
    "input_customs",
    "input_tax_payment_certificate",
    "input_toll_road_e_invoice",
    "input_air_e_invoice",
    "input_railway_e_ticket",
    "input_agricultural",
    "input_other",
    "input_transferred_out",
    "tax_payable",
    "end_credit",
    "credit_refunded",
    "vat_arrears",
    "approved_unbooked_export_refund",
)
RETURN_MONEY_FIELDS = tuple(name for name in RETURN_FIELDS[2:] if name != "sales_by_industry")
TAXPAYER_MONEY_FIELDS = ("prev_year_vat_sales", "total_assets_prev_year_end")
COMPLIANCE_MONEY_FIELDS = ("amount",)


class ReturnRow(NamedTuple):
    """One VAT return in ``VatReturn`` field order; money in fen, sales_by_industry {code: fen}."""

    period: str
    filed_on: dt.date
    sales_total: int
    sales_by_industry: dict
    output_tax: int
    input_special_invoice: int
    input_motor_vehicle_invoice: int
    input_customs: int
    input_tax_payment_certificate: int
    input_toll_road_e_invoice: int
    input_air_e_invoice: int
    input_railway_e_ticket: int
    input_agricultural: int
    input_other: int
    input_transferred_out: int
    tax_payable: int
    end_credit: int
    credit_refunded: int
    vat_arrears: int
    approved_unbooked_export_refund: int


@dataclass
class DemoTaxpayer:
    """One taxpayer with its returns and compliance records, ready for a loader.

    ``taxpayer`` holds ``Taxpayer`` field values, with ``branch_code`` instead of the branch and
    money in fen; ``archetype`` is kept for tests and is not stored.
    """

    taxpayer: dict
    returns: list[ReturnRow]
    compliance: list[dict]
    archetype: str


def fen_to_decimal(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen).scaleb(-2)


def fen_to_text(fen: int) -> str:
    """Yuan with two places, for COPY (fast path of ``str(fen_to_decimal(fen))``)."""
    return f"{fen // 100}.{fen % 100:02d}" if fen else "0.00"


def sales_by_industry_text(value: dict) -> dict:
    """The stored JSON form: {industry code: "yuan.fen"}."""
    return {code: fen_to_text(fen) for code, fen in value.items()}


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoParams:
    today: dt.date  # "last month" is the one before today's (no clock inside the generator)
    taxpayers: int = 3000
    seed: int = 2026
    branches: int = 5


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_period(today: dt.date) -> str:
    return period_text(month_index(today.year, today.month) - 1)


def credit_year(today: dt.date) -> int:
    """Ratings for year Y are published in April of Y+1 (纳税信用评价)."""
    return today.year - 1 if today.month >= 4 else today.year - 2


class _Calendar:
    """Periods 2019-03 … last month and the per-month factors every taxpayer shares."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.first = month_index(*FIRST_PERIOD)
        self.last = month_index(today.year, today.month) - 1
        if self.last < self.first:
            raise ValueError("today must be after 2019-03")
        self.periods = {i: period_text(i) for i in range(self.first, self.last + 1)}
        # The month a return is filed in (the one after its period).
        self.filing_month = {i: ((i + 1) // 12, (i + 1) % 12 + 1) for i in range(self.first, self.last + 1)}
        # Economy-wide shocks: Spring Festival lull, the 2020 epidemic, the 2022 spring lockdowns.
        shock = {}
        slumps = {(2020, 2): 0.55, (2020, 3): 0.8, (2020, 4): 0.92, (2022, 4): 0.88, (2022, 5): 0.92}
        for i in range(self.first, self.last + 1):
            year, month = i // 12, i % 12 + 1
            shock[i] = (0.82 if month == 2 else 1.0) * slumps.get((year, month), 1.0)
        self.shock = shock
        self.prev_year = today.year - 1
        self.credit_year = credit_year(today)

    def filed_on(self, index: int, rng: random.Random) -> dt.date:
        year, month = self.filing_month[index]
        filed = dt.date(year, month, rng.randint(3, 15) if rng.random() < 0.9 else rng.randint(1, 2))
        return min(filed, self.today)


def generate(params: DemoParams) -> Iterator[DemoTaxpayer]:
    """Yield ``params.taxpayers`` demo taxpayers in a fixed order (same params, same rows)."""
    master = random.Random(params.seed)
    calendar = _Calendar(params.today)
    names = _NameBook()
    serials: Counter = Counter()
    branches = branch_units(params.branches)
    profile_weights = [p.weight for p in INDUSTRIES]
    for index in range(params.taxpayers):
        rng = random.Random(master.getrandbits(64))
        profile = rng.choices(INDUSTRIES, weights=profile_weights)[0]
        yield _TaxpayerBuilder(index, rng, profile, params, calendar, branches, names, serials).build()


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


class _TaxpayerBuilder:
    """Draws one taxpayer: identity and scale, then the monthly simulation, then ratings and records."""

    def __init__(self, index, rng, profile, params, calendar, branches, names, serials) -> None:
        self.index = index
        self.rng = rng
        self.profile = profile
        self.params = params
        self.cal = calendar
        self.branches = branches
        self.names = names
        self.serials = serials

    # -- identity and scale ------------------------------------------------------------------

    def build(self) -> DemoTaxpayer:
        rng, profile, cal = self.rng, self.profile, self.cal
        self.code = rng.choice(profile.codes)
        self.section, self.division = self.code[0], self.code[1:3]
        self.archetype = rng.choices(list(profile.archetypes), weights=list(profile.archetypes.values()))[0]
        branch_weights = [
            (profile.zone_bias if k == DEVELOPMENT_ZONE_INDEX else 1.0) * (1.25 if k < 2 else 1.0)
            for k in range(len(self.branches))
        ]
        branch = rng.choices(self.branches, weights=branch_weights)[0]

        # Registration: about three in four were general taxpayers before 2019-03.
        if rng.random() < 0.74:
            gt_index = month_index(rng.randint(2001, 2018), rng.randint(1, 12))
        else:
            gt_index = rng.randint(cal.first + 1, max(cal.first + 1, cal.last - 2))
        offset = rng.choice((0, 0, 0, 1, 3, 6, 12, 24, 36, 60))
        registered_index = gt_index - offset
        registered_on = dt.date(registered_index // 12, registered_index % 12 + 1, rng.randint(1, 28) if offset else 1)
        self.gt_index, self.registered_index = gt_index, registered_index

        # Scale: annual VAT sales (lognormal around the industry median), assets, employees.
        annual = _lognormal(rng, profile.median_sales_wan * 10_000, 1.15)
        annual = min(max(annual, 1_200_000), 3_000_000_000)
        self.base_month_fen = int(annual * 100 / 12)
        asset_ratio = rng.uniform(2.0, 6.0) if profile.key == "real_estate" else rng.uniform(0.4, 1.6)
        self.asset_ratio = asset_ratio
        self.large = annual >= 200_000_000

        kind = "1"
        if annual < 10_000_000 and rng.random() < profile.individual_share:
            kind = "2"
        elif rng.random() < profile.cooperative_share:
            kind = "3"
        self.quarterly = rng.random() < 0.015
        self.exporter = self.archetype == EXPORTER or (self.section == "C" and rng.random() < 0.04)
        self.rate_bp = profile.rate_bp
        self.agri = rng.uniform(*profile.agri_share) if profile.agri_share[1] else 0.0
        self.multi = None
        if profile.key in _SECOND_INDUSTRY and rng.random() < (0.2 if profile.key == "real_estate" else 0.04):
            self.multi = (_SECOND_INDUSTRY[profile.key], rng.uniform(0.35, 0.8))

        legal_rep = person_name(rng)
        name = self.names.company(rng, profile, kind, legal_rep, self.large)
        identifier = make_identifier(
            self.index,
            seed=self.params.seed,
            kind=kind,
            region=REGION_CODES[-1] if branch.sort_order - 100 == DEVELOPMENT_ZONE_INDEX else REGION_CODES[0],
            new_style=registered_on.year >= 2016,
        )

        returns, prev_year_sales, months_operated = self._simulate()
        compliance, flags = self._compliance()
        status = "abnormal" if flags["abnormal"] else "normal"
        if flags["abnormal"]:
            cut = self.cal.periods[self.cal.last - flags["abnormal"]]
            returns = [r for r in returns if r.period <= cut]

        # Size as 2022 No.14 art. 6 measures it: last year's VAT sales (annualised) and assets.
        size, assets = "", None
        size_row = profile.size_row_by_code.get(self.code, profile.size_row)
        if prev_year_sales is not None:
            annualised = prev_year_sales * 12 // max(months_operated, 1)
            assets = int(annualised * asset_ratio) // 100 * 100
            size = enterprise_size(size_row, annualised, assets)
        employees = max(3, int(annual / rng.uniform(400_000, 1_500_000)))

        finance = person_name(rng)
        handler = finance if rng.random() < 0.3 else person_name(rng)
        taxpayer = {
            "identifier": identifier,
            "name": name,
            "branch_code": branch.code,
            "status": status,
            "industry_code": self.code,
            "registered_on": registered_on,
            "general_taxpayer_since": dt.date(gt_index // 12, gt_index % 12 + 1, 1),
            "filing_frequency": "quarterly" if self.quarterly else "monthly",
            "legal_rep_name": legal_rep,
            "legal_rep_mobile": mobile(rng),
            "finance_contact_name": finance if rng.random() < 0.96 else "",
            "finance_contact_mobile": "",
            "tax_handler_name": handler if rng.random() < 0.92 else "",
            "tax_handler_mobile": "",
            "credit_level": self._rating(flags),
            "credit_year": self.cal.credit_year,
            "size": size,
            "size_industry": size_row,
            "employees": employees,
            "prev_year_vat_sales": prev_year_sales,
            "prev_year_months_operated": months_operated if prev_year_sales is not None else None,
            "total_assets_prev_year_end": assets,
            "is_export_enterprise": self.exporter,
            "is_key_taxpayer": annual >= 50_000_000,
        }
        if taxpayer["finance_contact_name"]:
            taxpayer["finance_contact_mobile"] = mobile(rng)
        if taxpayer["tax_handler_name"]:
            same = taxpayer["tax_handler_name"] == taxpayer["finance_contact_name"]
            taxpayer["tax_handler_mobile"] = taxpayer["finance_contact_mobile"] if same else mobile(rng)
        if not taxpayer["credit_level"]:
            taxpayer["credit_year"] = None
        return DemoTaxpayer(taxpayer, returns, compliance, self.archetype)

    def _rating(self, flags) -> str:
        rng = self.rng
        if flags["fraud"] or flags["abnormal"]:
            return "D"
        if flags["penalties"] >= 2 and rng.random() < 0.6:
            return "C"
        registered_year = self.registered_index // 12
        if registered_year > self.cal.credit_year:
            return ""  # registered after the last evaluation year: not rated yet
        if registered_year == self.cal.credit_year and rng.random() < 0.8:
            return "M"  # 新设立: no full evaluation year yet
        return rng.choices("ABMCD", weights=(14, 72, 4, 7, 3))[0]

    # -- the monthly simulation ---------------------------------------------------------------

    def _plan(self, start: int, end: int) -> tuple[dict[int, int], dict[int, float], int]:
        """Per month: an explicit credit increase (fen) or a coverage ratio (input ÷ output tax),
        and the credit carried into 2019-03. Shapes the credit as the archetype says."""
        rng = self.rng
        boost: dict[int, int] = {}
        cover: dict[int, float] = {}
        month_fen = self.base_month_fen
        payer_mean = rng.uniform(0.74, 0.94)
        opening = 0

        def episode(first: int, length: int, per_month: float) -> None:
            for i in range(first, min(first + length, end + 1)):
                if i >= start:
                    boost[i] = max(1, int(per_month * rng.uniform(0.7, 1.3)))

        archetype = self.archetype
        for i in range(start, end + 1):
            cover[i] = payer_mean
        if archetype == PAYER:
            for i in range(start, end + 1):
                if rng.random() < 0.03:
                    boost[i] = int(month_fen * self.rate_bp / 10_000 * rng.uniform(0.05, 0.3)) + 1
        elif archetype == SEASONAL:
            mean, amplitude, peak = rng.uniform(0.86, 0.98), rng.uniform(0.15, 0.35), rng.randint(1, 12)
            for i in range(start, end + 1):
                cover[i] = mean + amplitude * math.cos(2 * math.pi * ((i % 12 + 1) - peak) / 12)
        elif archetype == STOCK:
            opening = int(_lognormal(rng, 35_000_000, 0.9))  # about 350,000 yuan at 2019-03
            drift = rng.uniform(0.97, 1.04)
            later = rng.uniform(0.85, 1.02)
            for i in range(start, end + 1):
                cover[i] = drift if i < month_index(2022, 7) else later
        elif archetype == GROWER:
            if rng.random() < 0.55:  # an early run under 2019 No.39
                episode(
                    rng.randint(month_index(2019, 4), month_index(2021, 6)),
                    rng.randint(6, 9),
                    _lognormal(rng, 12_000_000, 0.5),
                )
            if rng.random() < 0.4:  # a run in 2022-2024
                episode(
                    rng.randint(month_index(2022, 8), month_index(2024, 6)),
                    rng.randint(6, 10),
                    _lognormal(rng, 12_000_000, 0.5),
                )
            length = rng.randint(6, 16)
            ended_ago = 0 if rng.random() < 0.75 else rng.randint(1, 3)  # some runs broke recently
            episode(end - ended_ago - length + 1, length, _lognormal(rng, 11_000_000, 0.6))
        elif archetype == INVESTOR:
            for _ in range(rng.randint(1, 3)):
                episode(rng.randint(start, end), rng.randint(3, 8), _lognormal(rng, 30_000_000, 0.8))
            if rng.random() < 0.6:
                episode(end - rng.randint(2, 8), rng.randint(3, 8), _lognormal(rng, 25_000_000, 0.8))
            slow = rng.uniform(0.9, 0.99)
            for i in range(start, end + 1):
                cover[i] = slow
        elif archetype == DEVELOPER:
            if rng.random() < 0.6:
                opening = int(_lognormal(rng, 150_000_000, 0.8))
            i = start - rng.randint(0, 30)
            building = rng.random() < 0.6
            while i <= end:
                length = rng.randint(12, 30) if building else rng.randint(6, 18)
                per_month = _lognormal(rng, 25_000_000, 0.6)
                for j in range(i, min(i + length, end + 1)):
                    if j < start:
                        continue
                    if building:
                        boost[j] = max(1, int(per_month * rng.uniform(0.6, 1.4)))
                    else:
                        cover[j] = rng.uniform(0.3, 0.6)
                i += length
                building = not building
        elif archetype == EXPORTER:
            for i in range(start, end + 1):
                cover[i] = rng.uniform(0.75, 0.9)  # of the VAT on all sales, exports included
        return boost, cover, opening

    def _simulate(self) -> tuple[list[ReturnRow], int | None, int]:
        rng, cal = self.rng, self.cal
        start = max(cal.first, self.registered_index)
        end = cal.last
        boost, cover, credit = self._plan(start, end)
        base_credit = credit if self.gt_index <= cal.first else 0

        growth = 1 + min(max(rng.gauss(0.04, 0.07), -0.1), 0.25)
        season_amp, season_peak = rng.uniform(0.0, 0.25), rng.randint(1, 12)
        developer = self.archetype == DEVELOPER
        export_share = rng.uniform(0.3, 0.9) if self.exporter else 0.0
        ratio = 1 - self.agri - 0.02  # share of the seven voucher kinds (for refunds taken)
        shares = self._voucher_shares()
        refund_taker = rng.random() < 0.55
        section_2022 = self.section in _SECTIONS_2022 or self.division in _DIVISIONS_2022
        class1 = self.section in _SECTIONS_2025_CLASS1 or self.division in _DIVISIONS_2025_CLASS1
        arrears_from = end - rng.randint(0, 3) if rng.random() < 0.01 else None
        stock_refund_month = self._stock_refund_month(section_2022) if base_credit else None

        rows: list[ReturnRow] = []
        quarter: list[tuple] = []
        prev_year_sales, months_operated = 0, 0
        last_boost_month = None
        for i in range(start, end + 1):
            year, month = divmod(i, 12)
            month += 1
            level = self.base_month_fen * growth ** ((i - cal.first) / 12)
            level *= 1 + season_amp * math.cos(2 * math.pi * (month - season_peak) / 12)
            if developer:
                level *= 0.25 if i in boost else 2.2
            sales = int(level * cal.shock[i] * math.exp(rng.gauss(0.0, 0.12)))
            if year == cal.prev_year:
                prev_year_sales += sales
                months_operated += 1
            if i < self.gt_index:
                continue  # a small-scale taxpayer then: sales count for size, no general return

            vat_on_sales = sales * self.rate_bp // 10_000
            output = vat_on_sales - int(vat_on_sales * export_share)
            if i in boost:
                input_net = output + boost[i]
                last_boost_month = i
            elif self.exporter:
                input_net = int(vat_on_sales * cover[i])
            else:
                input_net = int(output * max(0.0, cover[i] + rng.gauss(0.0, 0.05)))

            transferred = int(input_net * rng.uniform(0.005, 0.05)) if rng.random() < 0.06 else 0
            if self.quarterly:  # one return a quarter: the quarter's flows settle together
                quarter.append((sales, output, input_net, transferred))
                if month % 3:
                    continue
                sales, output, input_net, transferred = (sum(column) for column in zip(*quarter, strict=True))
                quarter = []

            refund = 0
            if credit > 0:
                refund = self._refund_taken(
                    i,
                    credit,
                    base_credit,
                    ratio,
                    last_boost_month,
                    refund_taker,
                    section_2022,
                    class1,
                    stock_refund_month,
                )
            available = credit - refund + input_net
            if available >= output:
                credit, payable = available - output, 0
            else:
                credit, payable = 0, output - available
            if self.exporter and credit:
                credit -= min(credit, int(sales * export_share * self.rate_bp / 10_000 * rng.uniform(0.5, 0.9)))
            arrears = int(max(payable, 100_000) * rng.uniform(0.3, 1.0)) if arrears_from and i >= arrears_from else 0
            unbooked = 0
            if self.exporter and i == end and rng.random() < 0.3:
                unbooked = int(sales * export_share * self.rate_bp / 10_000 * rng.uniform(0.2, 0.6))
            flows = (sales, output, input_net + transferred, transferred, payable, refund, arrears, unbooked)
            rows.append(self._row(i, flows, credit, shares))
        if months_operated == 0:
            return rows, None, 0
        return rows, prev_year_sales, months_operated

    def _stock_refund_month(self, section_2022: bool) -> int | None:
        """The 2022 one-off stock refund (2022 No.14 art. 1-2, No.17, No.19, No.21), if taken."""
        rng = self.rng
        if rng.random() > 0.7:
            return None
        annual = self.base_month_fen * 12
        size = enterprise_size(self.profile.size_row, annual, int(annual * self.asset_ratio))
        if size == "micro":
            return month_index(2022, 4)
        if size == "small":
            return month_index(2022, 5)
        if self.section in "CMDG" or self.division in _DIVISIONS_2022:  # 2022 No.14 art. 2, No.17, No.19
            return month_index(2022, 5 if size == "medium" else 6)
        if section_2022:  # 2022 No.21
            return month_index(2022, 7)
        return None

    def _refund_taken(self, i, credit, base, ratio, last_boost, taker, section_2022, class1, stock_month) -> int:
        """A plausible refund history (credit_refunded): not the rules, only their typical outcome."""
        rng = self.rng
        increment = credit - base
        if i == stock_month:
            return int(credit * ratio)  # stock and any increment, both × ratio
        if self.archetype == GROWER and last_boost == i - 1 and i <= month_index(2025, 8) and increment > 50_000_000:
            return int(increment * ratio * 0.6) if rng.random() < 0.6 else 0  # 2019 No.39: 60%
        if not taker:
            return 0
        if self.archetype == INVESTOR and section_2022 and month_index(2022, 4) <= i <= month_index(2025, 8):
            return int(increment * ratio) if increment > 10_000_000 and rng.random() < 0.12 else 0
        if class1 and i >= month_index(2025, 9) and credit > 10_000_000 and rng.random() < 0.15:
            return int(credit * ratio)  # 2025 No.7 class 1: the whole credit
        if self.archetype == DEVELOPER and i >= month_index(2025, 9) and increment > 50_000_000:
            return int(increment * ratio * 0.6) if rng.random() < 0.05 else 0
        return 0

    def _voucher_shares(self) -> tuple[float, ...]:
        """Shares of input tax by voucher kind other than the special invoice (which takes the rest)."""
        rng = self.rng
        customs = rng.uniform(0.02, 0.2) if self.exporter or rng.random() < 0.05 else 0.0
        return (
            rng.uniform(0.0, 0.03) if rng.random() < 0.3 else 0.0,  # motor vehicle invoice
            customs,
            rng.uniform(0.0, 0.02) if rng.random() < 0.05 else 0.0,  # tax payment certificate
            rng.uniform(0.001, 0.01),  # toll road e-invoice
            rng.uniform(0.0, 0.003),  # air e-ticket
            rng.uniform(0.0, 0.003),  # railway e-ticket
            self.agri,
            rng.uniform(0.0, 0.02),  # other (e.g. 国内旅客运输 paper tickets)
        )

    def _row(self, i: int, flows: tuple, credit: int, shares: tuple[float, ...]) -> ReturnRow:
        sales, output, input_total, transferred, payable, refund, arrears, unbooked = flows
        parts = [int(input_total * share) for share in shares]
        special = input_total - sum(parts)
        by_industry = {}
        if self.multi:
            code, share = self.multi
            first = int(sales * min(max(share + self.rng.gauss(0, 0.05), 0.05), 0.95))
            by_industry = {self.code: first, code: sales - first}
        return ReturnRow(
            self.cal.periods[i], self.cal.filed_on(i, self.rng), sales, by_industry, output, special, *parts,
            transferred, payable, credit, refund, arrears, unbooked,
        )  # fmt: skip

    # -- compliance records -------------------------------------------------------------------

    def _compliance(self) -> tuple[list[dict], dict]:
        rng, cal = self.rng, self.cal
        today = cal.today
        since = dt.date(self.gt_index // 12, self.gt_index % 12 + 1, 1)
        records: list[dict] = []
        flags = {"penalties": 0, "fraud": False, "abnormal": 0}

        def day_between(first: dt.date, last: dt.date) -> dt.date:
            first = max(first, since)
            if last <= first:
                return last
            return first + dt.timedelta(days=rng.randrange((last - first).days + 1))

        def add(kind: str, prefix: str, occurred: dt.date, amount: int | None, note: str = "") -> None:
            key = (prefix, occurred.year)
            self.serials[key] += 1
            records.append(
                {
                    "kind": kind,
                    "occurred_on": occurred,
                    "document_number": f"{prefix}〔{occurred.year}〕{self.serials[key]}号",
                    "amount": amount,
                    "note": note,
                }
            )

        draw = rng.random()
        recent = today - dt.timedelta(days=30 * 30)
        if draw < 0.008:  # two 偷税 penalties within 36 months: not eligible anywhere
            for _ in range(2):
                add(
                    "evasion_penalty",
                    "示税稽罚",
                    day_between(recent, today),
                    int(_lognormal(rng, 6_000_000, 0.8)),
                    "偷税，处少缴税款百分之五十罚款",
                )
            flags["penalties"] = 2
        elif draw < 0.045:  # one penalty: still eligible
            add(
                "evasion_penalty",
                "示税稽罚",
                day_between(dt.date(2019, 6, 1), today),
                int(_lognormal(rng, 4_000_000, 0.8)),
                "偷税，处少缴税款百分之五十罚款",
            )
            flags["penalties"] = 1
        if rng.random() < 0.004:
            kind = rng.choices(
                ("false_special_invoice", "refund_fraud", "export_refund_fraud"),
                weights=(6, 3, 2 if self.exporter else 0),
            )[0]
            add(
                kind,
                "示税稽罚",
                day_between(today - dt.timedelta(days=33 * 30), today),
                int(_lognormal(rng, 20_000_000, 0.8)),
                "稽查处理决定",
            )
            flags["fraud"] = True
        if rng.random() < self.profile.immediate_refund_share:
            enjoyed = day_between(dt.date(2019, 4, 1), today)
            add(
                "immediate_refund",
                "示税通",
                enjoyed,
                int(_lognormal(rng, 8_000_000, 0.9)),
                "软件产品增值税即征即退" if self.division == "65" else "资源综合利用增值税即征即退",
            )
            if rng.random() < 0.2:
                add("immediate_refund_repaid", "示税缴", day_between(enjoyed, today), None, "一次性缴回已退税款")
        if rng.random() < 0.004:
            flags["abnormal"] = rng.randint(3, 10)  # stopped filing some months ago: 非正常户
        return records, flags
