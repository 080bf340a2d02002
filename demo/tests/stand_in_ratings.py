"""Ratings for a demo county that has none yet, so that the credit demo's tests have A/B/M/C/D taxpayers to work
on: two evaluated years, a deterministic mix by taxpayer identifier. Written only where a taxpayer has no rating at all,
so it adds nothing once the demo writes its own rating history."""

import datetime as dt
import random
from decimal import Decimal

from credit.models import CreditRating, RuleSet
from credit.rules.parameters import evaluation_date
from demo import county
from taxpayers.models import Taxpayer

LEVELS = (("A", 15, (90, 98)), ("B", 68, (72, 89)), ("M", 4, None), ("C", 9, (45, 69)), ("D", 4, (20, 39)))


def stand_in_ratings(today: dt.date) -> int:
    year = county.credit_year(today)
    rated = set(CreditRating.objects.values_list("taxpayer_id", flat=True))
    rows = []
    taxpayers = Taxpayer.objects.exclude(pk__in=rated).order_by("pk")
    for pk, identifier, status, registered_on in taxpayers.values_list("pk", "identifier", "status", "registered_on"):
        rng = random.Random(identifier)
        for y in (year - 1, year):
            level, _, band = rng.choices(LEVELS, weights=[w for _, w, _ in LEVELS])[0]
            if registered_on.year > y:
                continue  # not registered yet: not rated
            if registered_on.year == y:
                level, band = "M", None  # 新设立
            if status != "normal":
                level, band = "D", None
            score = Decimal(rng.randint(*band)) if band else None
            rows.append(
                CreditRating(
                    taxpayer_id=pk, year=y, level=level, score=score, evaluated_on=evaluation_date(y),
                    rule_set=RuleSet.for_year(y),
                )
            )  # fmt: skip
    CreditRating.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
