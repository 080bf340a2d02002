"""The indicator tables: code, Chinese name, points, how counted, repairability, citation.

Two tables, chosen by the behaviour's record date (``INDICATORS``): the 2014年第48号 table as amended,
with the repair rows of 2019年第37号 附件1 / 2021年第31号 附件2, up to 2025-06-30; the
2025年第12号 附件1 table with the 附件6 repair rows from 2025-07-01.

``counting``: ``per_occurrence`` (按次; under the old table late filing and withholding are also
按税种按次, so each event counts), ``per_month`` (按月计算: several late returns in one month cost one
deduction), ``one_off`` (一次性: once a year whatever the count).
``repair``: ``amount_rule`` (the share depends on the tax involved: 1,000 / 2,000 yuan), ``standard``
(the plain shares of the band), ``None`` (not repairable by the tables read).
``confidence``: V (read in an official or quoting source), S (secondary summary), M (from memory of the
documents, a hypothesis).

Missing (not read, so not here): most of the ~100 rows of the 48号 table — invoice (03xx),
registration (04xx), assessment and audit (05xx/06xx) indicators; rows 8–19 of the 2019/2021 repair
tables and the codes of the payment items (0201xx, beyond 020101 [M]); the full 2025 附件1 and 附件6
(the gradual arrears repair formula, the overall repair trigger and cap, the direct-D waiting
periods and amount thresholds); year-end unpaid tax (11 / 3 points [M]) and 已代扣未解缴 (11 [M]),
whose codes are unknown. Two rows whose official codes were not read carry local codes, marked
``LOCAL_CODES``, so that their values (confirmed) can be used: the bank-account rows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .parameters import NEW_SYSTEM_FROM, OLD_FROM, OLD_TO, STA_2014_48, STA_2021_31, STA_2025_12, Parameter, Version


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    points: Decimal
    counting: str  # per_occurrence | per_month | one_off
    repair: str | None  # amount_rule | standard | None
    citation: str
    confidence: str = "V"

    @property
    def repairable(self) -> bool:
        return self.repair is not None


BANK_ACCOUNTS_NOT_ALL_REPORTED = "BANK-ACCOUNTS-NOT-ALL-REPORTED"
BANK_ACCOUNT_REPORTED_LATE = "BANK-ACCOUNT-REPORTED-LATE"
LOCAL_CODES = frozenset({BANK_ACCOUNTS_NOT_ALL_REPORTED, BANK_ACCOUNT_REPORTED_LATE})
"""Our codes for rows whose official codes were not read; replace them once the annexes are. Officers never see
them: pages, messages and files show the indicator's Chinese name, and a file may name the row instead."""

CODE_MAX_LENGTH = max(6, *(len(code) for code in LOCAL_CODES))
"""The longest code an event may carry: six digits, or a local code."""

_OFFICIAL_CODE = re.compile(r"\d{6}")


def is_indicator_code(code: str) -> bool:
    """An official six-digit code (010101) or one of ``LOCAL_CODES``: the shapes an event's indicator may take."""
    return bool(_OFFICIAL_CODE.fullmatch(code)) or code in LOCAL_CODES


OLD = f"{STA_2014_48}（{STA_2021_31} 附件2 所列代码）"
NEW = f"{STA_2025_12} 附件1"


def _table(*rows: Indicator) -> dict[str, Indicator]:
    return {row.code: row for row in rows}


def _d(value: str) -> Decimal:
    return Decimal(value)


TABLE_2014 = _table(
    Indicator("010101", "未按规定期限纳税申报（按税种按次计算）", _d("5"), "per_occurrence", "amount_rule", OLD),
    Indicator("010102", "未按规定期限代扣代缴（按税种按次计算）", _d("5"), "per_occurrence", "amount_rule", OLD),
    Indicator("010103", "未按规定期限填报财务报表（按次计算）", _d("3"), "per_occurrence", "standard", OLD),
    Indicator(
        "010304",
        "从事进料加工业务的生产企业，未按规定期限办理进料加工登记、申报、核销手续",
        _d("3"),
        "per_occurrence",
        "standard",
        OLD,
    ),
    Indicator("010501", "未按规定时限报送财务会计制度或财务处理办法（一次性）", _d("3"), "one_off", "standard", OLD),
    Indicator(
        "010502",
        "使用计算机记账，未在使用前将会计核算软件、使用说明书及有关资料报送备案",
        _d("3"),
        "per_occurrence",
        "standard",
        OLD,
    ),
    Indicator(
        "010503",
        "纳税人与其关联企业之间的业务往来应向税务机关提供有关价格、费用标准信息而未提供",
        _d("3"),
        "per_occurrence",
        "standard",
        OLD,
        "M",
    ),
    Indicator(
        "020101",
        "未按规定期限缴纳已申报或批准延期申报的应纳税（费）款",
        _d("5"),
        "per_occurrence",
        "standard",
        OLD,
        "M",
    ),
    Indicator(
        BANK_ACCOUNTS_NOT_ALL_REPORTED,
        "纳税人未按照规定将其全部银行账号报告税务机关（一次性）",
        _d("11"),
        "one_off",
        "standard",
        f"{STA_2021_31} 附件2",
    ),
    Indicator(
        BANK_ACCOUNT_REPORTED_LATE,
        "未在规定时限内向主管税务机关报告开立（变更）账号（一次性）",
        _d("5"),
        "one_off",
        "standard",
        OLD,
        "M",
    ),
)

TABLE_2025 = _table(
    Indicator("010101", "未按规定期限办理纳税缴费申报（按月计算）", _d("5"), "per_month", "amount_rule", NEW),
    Indicator("010102", "未按规定期限代扣代缴（按月计算）", _d("5"), "per_month", "amount_rule", NEW),
    Indicator("010103", "未按规定期限填报财务报表（按次计算）", _d("3"), "per_occurrence", "standard", NEW),
    Indicator(
        "010106", "故意隐瞒真实情况、提供虚假承诺办理有关事项的（按次计算）", _d("11"), "per_occurrence", None, NEW
    ),
    Indicator(
        "010107",
        "企业法定代表人、合伙企业自然人合伙人、个人独资企业投资者或企业财务负责人未依法办理个人所得税综合所得汇算清缴的",
        _d("5"),
        "per_occurrence",
        "amount_rule",
        NEW,
    ),
    Indicator(
        "010301",
        "在出口退税业务办理过程中，被税务机关函调后发现存在不予退税情形的",
        _d("1"),
        "per_occurrence",
        None,
        NEW,
    ),
    Indicator("010501", "未按规定时限报送财务会计制度或财务处理办法", _d("3"), "one_off", "standard", NEW, "S"),
    Indicator("010502", "会计核算软件未备案", _d("3"), "per_occurrence", "standard", NEW),
    Indicator("010503", "未按规定报送年度关联业务往来报告表", _d("3"), "per_occurrence", "standard", NEW),
    Indicator(
        BANK_ACCOUNTS_NOT_ALL_REPORTED,
        "银行账户设置数大于经营主体向税务机关提供数（一次性）",
        _d("11"),
        "one_off",
        "standard",
        NEW,
        "S",
    ),
    Indicator(
        BANK_ACCOUNT_REPORTED_LATE,
        "未按规定时限向主管税务机关报告开立（变更）账号（一次性）",
        _d("5"),
        "one_off",
        "standard",
        NEW,
        "S",
    ),
)

INDICATORS: Parameter[dict[str, Indicator]] = Parameter(
    "indicators",
    "the indicator table in force on the record date",
    (
        Version(OLD_FROM, OLD_TO, TABLE_2014, STA_2014_48),
        Version(NEW_SYSTEM_FROM, None, TABLE_2025, f"{STA_2025_12} 附件1"),
    ),
)


def indicator_code(value: str) -> str:
    """ "010101 未按规定期限…" and "010101" name the same indicator: the code is the first word."""
    return value.strip().split()[0] if value.strip() else ""


@functools.lru_cache(maxsize=4096)
def find_indicator(code: str, recorded_on: date) -> Indicator | None:
    """The row of ``code`` in the table in force on ``recorded_on`` (kept: the tables never change, and the
    daily prediction asks for the same few codes and days for every taxpayer)."""
    return INDICATORS.at(recorded_on).get(code)


LATE_FILING = "010101"
"""未按规定期限纳税（缴费）申报: the behaviour the late-return derivation records."""

_COUNTING_NOTE = re.compile(r"（[^（）]*(?:计算|一次性)[^（）]*）$")


def indicator_name(code: str, on: date | None = None) -> str | None:
    """The indicator's Chinese name without its counting note ("（按月计算）"), from the table in force on the
    day, else the newest table that has the code; ``None`` for a code neither table holds."""
    tables = [version.value for version in reversed(INDICATORS.versions)]  # newest first
    if on is not None:
        tables = [version.value for version in INDICATORS.versions if version.covers(on)] + tables
    for table in tables:
        if code in table:
            return _COUNTING_NOTE.sub("", table[code].name)
    return None


def codes_by_name() -> dict[str, str]:
    """Every name either table gives an indicator (with and without its counting note) → its code, so a file
    may name the indicator instead of coding it."""
    names: dict[str, str] = {}
    for version in INDICATORS.versions:
        for indicator in version.value.values():
            names[indicator.name] = indicator.code
            names[_COUNTING_NOTE.sub("", indicator.name)] = indicator.code
    return names
