"""The monthly sample's draw (事后复核抽样), pure: no ORM, no clock; the population, the rules and the seed are
arguments, so the same three always give the same refunds.

A refund paid in the month is drawn when any of these holds, each recorded as a reason:

- 重点行业大额: its industry (as the ledger recorded it at payment) is in a focus section and its amount is above
  the threshold;
- 即征即退: its taxpayer has 即征即退 history (the month's scan of paid refunds hit it);
- 最大额: it is among the ``largest`` refunds of the month (ties: the earlier application);
- 随机: of the refunds no rule drew, a share drawn at random with ``random.Random(seed)`` from the rest in
  application order (at least one when the share is above 0 and any is left).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FOCUS, IMMEDIATE, LARGEST, RANDOM = "focus_industry", "immediate_refund", "largest", "random"
REASON_ORDER = (FOCUS, IMMEDIATE, LARGEST, RANDOM)


@dataclass(frozen=True)
class PaidRefund:
    """A refund of the population: the application paid in the month and what the rules look at."""

    application_id: int
    amount: Decimal
    industry_code: str
    immediate_refund: bool = False


@dataclass(frozen=True)
class SampleRules:
    focus_sections: tuple[str, ...]
    focus_threshold: Decimal
    largest: int
    random_pct: Decimal


@dataclass(frozen=True)
class Drawn:
    application_id: int
    reasons: tuple[str, ...]


def population_digest(population: Iterable[PaidRefund]) -> str:
    """A sha256 of the population's rows (application, amount, industry, 即征即退) in application order: equal
    digests mean a redraw reads the population the sample was drawn from."""
    text = "\n".join(
        f"{r.application_id}|{r.amount:.2f}|{r.industry_code}|{int(r.immediate_refund)}"
        for r in sorted(population, key=lambda r: r.application_id)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def random_count(rest: int, pct: Decimal) -> int:
    """How many of ``rest`` refunds the random share takes: ``pct`` % rounded half up, at least one when the
    share is above 0 and any is left."""
    if rest == 0 or pct <= 0:
        return 0
    count = int((Decimal(rest) * pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(rest, max(1, count))


def draw(population: Sequence[PaidRefund], rules: SampleRules, seed: int) -> list[Drawn]:
    """The refunds drawn, each with its reasons, in the order of ``REASON_ORDER`` then amount (largest first)."""
    ordered = sorted(population, key=lambda r: r.application_id)
    reasons: dict[int, list[str]] = {r.application_id: [] for r in ordered}
    sections = {s.upper() for s in rules.focus_sections}
    for refund in ordered:
        if refund.industry_code[:1].upper() in sections and refund.amount > rules.focus_threshold:
            reasons[refund.application_id].append(FOCUS)
        if refund.immediate_refund:
            reasons[refund.application_id].append(IMMEDIATE)
    for refund in sorted(ordered, key=lambda r: (-r.amount, r.application_id))[: max(rules.largest, 0)]:
        reasons[refund.application_id].append(LARGEST)
    rest = [r.application_id for r in ordered if not reasons[r.application_id]]
    chosen = random.Random(seed).sample(rest, random_count(len(rest), rules.random_pct))  # reproducible, not secret
    for application_id in chosen:
        reasons[application_id].append(RANDOM)
    amounts = {r.application_id: r.amount for r in ordered}
    drawn = [Drawn(pk, tuple(found)) for pk, found in reasons.items() if found]
    drawn.sort(key=lambda d: (REASON_ORDER.index(d.reasons[0]), -amounts[d.application_id], d.application_id))
    return drawn
