"""GB/T 4754-2017 国民经济行业分类: sections (门类) and divisions (大类).

Plain data and the standard library only, so that the refund rules (pure) and every app read one table: the
registry validates codes with it, the rules test an industry's share of sales, the pages group by section.

Codes arrive as ``C3411``, ``3411``, ``c34`` or ``34``; a division code is unique
across sections, so the section letter can always be derived and, when given,
must agree. Finer levels (中类/小类) are accepted by shape (3 or 4 digits) because
only the section and division matter to the refund rules.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_CODE = re.compile(r"^([A-T])?(\d{2}(?:\d{1,2})?)$")


@dataclass(frozen=True)
class Industry:
    code: str  # normalised: section letter + 2 to 4 digits, e.g. "C3411"
    section: str
    division: str
    section_name: str
    division_name: str


@cache
def _tree() -> dict[str, tuple[str, str, str]]:
    """division -> (section, section name, division name)."""
    data = json.loads((Path(__file__).parent / "data" / "gbt4754_2017.json").read_text(encoding="utf-8"))
    return {
        division: (section["section"], section["name"], name)
        for section in data["sections"]
        for division, name in section["divisions"].items()
    }


@cache
def sections() -> dict[str, str]:
    return {section: name for section, name, _ in _tree().values()}


def parse_industry_code(value: str) -> Industry | None:
    """The normalised industry, or ``None`` when the code is not a GB/T 4754-2017 code."""
    match = _CODE.match((value or "").strip().upper().replace(" ", ""))
    if not match:
        return None
    letter, digits = match.groups()
    entry = _tree().get(digits[:2])
    if entry is None or (letter and letter != entry[0]):
        return None
    section, section_name, division_name = entry
    return Industry(section + digits, section, digits[:2], section_name, division_name)
