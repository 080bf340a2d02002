"""Names, identifiers and mobiles of the demo county's taxpayers: synthetic, valid, and nobody's.

Identifiers pass the GB 32100-2015 check (and the embedded GB 11714 organisation code passes its own check)
but belong to nobody: the region code 330599 is not a real county.
"""

from __future__ import annotations

import random
from collections import Counter

from taxpayers.validators import USCC_CHARSET, uscc_check_char

from .industries import IndustryProfile

REGION_CODES = ("330599", "330599", "330599", "330571")  # synthetic county; 330571 = its development zone
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


class NameBook:
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
