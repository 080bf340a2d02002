"""风险等级: a scanned taxpayer's or application's grade (低/中/高) from its hits.

高 when the high rule is met, else 中 when the medium rule is met, else 低. A rule is met when any threshold it
sets is reached (``GradeRule``). Until risk officers record rules, ``DEFAULT_RULES`` hold: 高 on any hit of high
severity or three of medium; 中 on any hit of medium severity or two hits of any severity. What each grade means
downstream: 低 may be approved in a batch, 中 is reviewed one by one, 高 waits for a collective consultation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from .models import RiskGrade, Severity


@dataclass(frozen=True)
class Rule:
    grade: str
    min_high_hits: int | None = None
    min_medium_hits: int | None = None
    min_total_hits: int | None = None
    version_id: int | None = None
    effective_from: str = ""

    def met(self, counts: HitCounts) -> bool:
        return (
            (self.min_high_hits is not None and counts.high >= self.min_high_hits)
            or (self.min_medium_hits is not None and counts.high + counts.medium >= self.min_medium_hits)
            or (self.min_total_hits is not None and counts.total >= self.min_total_hits)
        )

    def as_json(self) -> dict:
        return asdict(self)


DEFAULT_RULES = {
    RiskGrade.HIGH: Rule(RiskGrade.HIGH, min_high_hits=1, min_medium_hits=3),
    RiskGrade.MEDIUM: Rule(RiskGrade.MEDIUM, min_medium_hits=1, min_total_hits=2),
}


@dataclass(frozen=True)
class HitCounts:
    high: int = 0
    medium: int = 0
    low: int = 0

    @property
    def total(self) -> int:
        return self.high + self.medium + self.low

    @classmethod
    def of(cls, severities: Iterable[str]) -> HitCounts:
        severities = list(severities)
        return cls(
            high=severities.count(Severity.HIGH),
            medium=severities.count(Severity.MEDIUM),
            low=severities.count(Severity.LOW),
        )


def grade_of(counts: HitCounts, rules: dict[str, Rule]) -> str:
    """The grade of a subject with ``counts`` hits by ``rules`` (the rules in force; defaults fill a gap)."""
    for grade in (RiskGrade.HIGH, RiskGrade.MEDIUM):
        if (rules.get(grade) or DEFAULT_RULES[grade]).met(counts):
            return grade
    return RiskGrade.LOW
