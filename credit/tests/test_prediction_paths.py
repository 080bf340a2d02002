"""The daily prediction against a plain per-taxpayer path: for varied taxpayers (every level, direct and
score-based D, an old rating, unrated, new this year, corrected and open events, 首违不罚, a refused code, twins
with the same inputs) every stored field equals what one ``assess`` per taxpayer, read one taxpayer at a time,
gives — under the 2025 办法's transition year and a year wholly under it, on the first run and the next day's."""

import datetime as dt
from decimal import Decimal

import pytest

from credit.models import CreditPrediction, CreditRating, DishonestyEvent
from credit.rules import CaseError, Evaluation, Event, TaxpayerFacts, assess
from credit.warnings import services
from taxpayers.models import Taxpayer
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db

FIELDS = (
    "current_level",
    "score",
    "level",
    "score_if_repaired",
    "level_if_repaired",
    "points_at_stake",
    "deadline",
    "open_events",
    "warnings",
)


def _reference(taxpayer: Taxpayer, today: dt.date) -> dict | None:
    """The prediction row one taxpayer's own reads and one ``assess`` give (None: the rules refuse it)."""
    year = today.year
    rating = (
        CreditRating.objects.filter(taxpayer=taxpayer, evaluated_on__lte=today)
        .order_by("-year", "-evaluated_on", "-id")
        .first()
    )
    events = list(
        DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__range=(dt.date(year, 1, 1), today)).order_by(
            "recorded_on", "pk"
        )
    )
    previous_level = previous_d_kind = None
    if rating is not None and rating.year == year - 1:
        previous_level = rating.level
        if rating.level == "D":
            previous_d_kind = "score" if rating.score is not None else "direct"
    registered = taxpayer.registered_on
    facts = TaxpayerFacts(
        first_tax_matter_date=registered if registered and registered.year == year else None,
        previous_level=previous_level,
        previous_d_kind=previous_d_kind,
    )
    evaluation = Evaluation(
        year=year,
        as_of=today,
        taxpayer=facts,
        events=tuple(
            Event(e.indicator, e.recorded_on, e.tax or None, e.amount, e.corrected_on, e.no_penalty) for e in events
        ),
    )
    try:
        assessment = assess(evaluation)
    except CaseError:
        return None
    open_ids = {}
    for e in events:
        if e.corrected_on is None:
            open_ids.setdefault((e.indicator, e.recorded_on), e.pk)
    deadlines = [w.deadline for w in assessment.warnings if w.deadline]
    return {
        "current_level": rating.level if rating else "",
        "score": assessment.score,
        "level": assessment.level,
        "score_if_repaired": assessment.score_if_all_repaired_now,
        "level_if_repaired": assessment.level_if_all_repaired_now,
        "points_at_stake": max(assessment.score_if_all_repaired_now - assessment.score, Decimal(0)),
        "deadline": min(deadlines) if deadlines else None,
        "open_events": len(open_ids),
        "warnings": [
            {
                "indicator": w.indicator,
                "indicator_name": w.indicator_name,
                "recorded_on": w.recorded_on.isoformat(),
                "event_id": open_ids.get((w.indicator, w.recorded_on)),
                "points": str(w.points_at_stake),
                "deadline": w.deadline.isoformat() if w.deadline else None,
            }
            for w in assessment.warnings
        ],
    }


def _rate(taxpayer, year, level, score, evaluated_on=None, basis="evaluated"):
    CreditRating.objects.create(
        taxpayer=taxpayer,
        year=year,
        level=level,
        score=score,
        basis=basis,
        evaluated_on=evaluated_on or dt.date(year + 1, 4, 18),
        rule_set="2025" if year >= 2025 else "2014",
    )


def _events(taxpayer, year, spec):
    """spec: (indicator, month, day, corrected after days or None, no_penalty, amount, tax); in 2025 four months
    later, so that the mixes straddle the 2025 办法's first day (1 July)."""
    for indicator, month, day, corrected, no_penalty, amount, tax in spec:
        recorded = dt.date(year, month + 4 if year == 2025 else month, day)
        DishonestyEvent.objects.create(
            taxpayer=taxpayer,
            indicator=indicator,
            recorded_on=recorded,
            corrected_on=recorded + dt.timedelta(days=corrected) if corrected is not None else None,
            no_penalty=no_penalty,
            amount=amount,
            tax=tax,
        )


MIXES = [
    [],
    [("010101", 5, 16, None, False, Decimal("800"), "增值税")],
    [("010101", 5, 16, 2, False, Decimal("800"), "增值税")],
    [("010101", 5, 16, 20, False, Decimal("1800.50"), "增值税"), ("010101", 5, 17, None, False, None, "印花税")],
    [("010101", 3, 16, 40, False, Decimal("5000"), "企业所得税"), ("010103", 3, 2, None, True, None, "")],
    [("010103", 4, day, None if day % 2 else 10, False, None, "") for day in range(1, 9)],
    [("010501", 2, 20, None, False, None, ""), ("010501", 4, 20, 5, False, None, "")],
    [("010102", 1, 16, 100, False, Decimal("300"), "个人所得税"), ("010106", 5, 25, None, False, None, "")],
    [("010502", 6, 10, None, True, None, ""), ("010503", 6, 12, 1, False, None, "")],
    [("010107", 2, 25, None, False, None, ""), ("010301", 3, 25, 30, False, None, "")],
]
RATINGS = [
    None,
    ("A", Decimal("95")),
    ("B", Decimal("80")),
    ("M", None),
    ("C", Decimal("55")),
    ("D", Decimal("30")),
    ("D", None),  # a direct D
]


def _county(org, year):
    """Taxpayers crossing every rating with every mix of events, and the special cases."""
    made = []
    for r, rating in enumerate(RATINGS):
        for m, mix in enumerate(MIXES):
            registered = dt.date(year, 3, 1) if (r + m) % 9 == 4 else dt.date(2015, 1, 1)
            taxpayer = TaxpayerFactory(branch=org["branch_a"], registered_on=registered)
            if rating:
                _rate(taxpayer, year - 1, *rating)
            _events(taxpayer, year, mix)
            made.append(taxpayer)
    old = TaxpayerFactory(branch=org["branch_b"])  # rated two years ago only: no previous level
    _rate(old, year - 2, "D", Decimal("20"))
    repaired = TaxpayerFactory(branch=org["branch_b"])  # C repaired to B after the evaluation
    _rate(repaired, year - 1, "C", Decimal("60"))
    _rate(repaired, year - 1, "B", Decimal("72"), evaluated_on=dt.date(year, 5, 20), basis="repaired")
    refused = TaxpayerFactory(branch=org["branch_b"])
    _events(refused, year, [("019999", 5, 16, None, False, None, "")])
    gone = TaxpayerFactory(branch=org["branch_b"], status="deregistered")
    _events(gone, year, MIXES[1])
    last_year = TaxpayerFactory(branch=org["branch_b"])  # an event of the year before does not count
    _events(last_year, year - 1, MIXES[1])
    return [*made, old, repaired, refused, gone, last_year]


def _stored(today):
    return {
        p.taxpayer_id: {name: getattr(p, name) for name in FIELDS}
        for p in CreditPrediction.objects.filter(year=today.year)
    }


@pytest.mark.parametrize("today", [dt.date(2025, 11, 20), dt.date(2026, 6, 15)])
def test_the_job_stores_what_one_assessment_per_taxpayer_gives(org, today):
    taxpayers = _county(org, today.year)
    registered = [t for t in taxpayers if t.status != "deregistered"]
    reference = {taxpayer.pk: _reference(taxpayer, today) for taxpayer in registered}
    expected = {pk: row for pk, row in reference.items() if row is not None}
    assert len(expected) >= len(registered) - 10  # a code the year's tables lack is refused
    run = services.credit_predictions_refresh(today=today, chunk=7)
    assert (run.predicted, run.failed) == (len(expected), len(registered) - len(expected))
    stored = _stored(today)
    assert stored.keys() == expected.keys()
    for pk, row in expected.items():
        assert stored[pk] == row, pk
    levels = {row["level"] for row in expected.values()}
    assert {"A", "B", "C", "D", "M"} <= levels
    assert any(row["warnings"] and row["deadline"] for row in expected.values())
    ids = {p.taxpayer_id: p.pk for p in CreditPrediction.objects.all()}
    again = services.credit_predictions_refresh(today=today)  # the next day's job, one chunk: the same rows
    assert (again.predicted, again.written) == (run.predicted, 0) and _stored(today) == stored
    assert {p.taxpayer_id: p.pk for p in CreditPrediction.objects.all()} == ids
