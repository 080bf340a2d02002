"""The demo county's credit work: every warning list and every case state has rows, each at-risk row says what to
correct, by when and what it restores, the events have a county's mix, and a second run adds nothing."""

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command

from accounts.models import User
from credit.banktax.selectors import promotion_list
from credit.models import BankTaxLoan, BankTaxOutreach, CreditCase, CreditContact, CreditPrediction, DishonestyEvent
from credit.rules.indicators import LOCAL_CODES
from credit.warnings.selectors import LISTS, warning_list
from demo import county as demo_county
from demo.county.credit_events import CreditSubject, generate_events
from demo.seeding import seed_demo_county
from refund.models import CandidateList, RepairNotice

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def county():
    seed_demo_county(demo_county.DemoParams(taxpayers=300, seed=7, today=TODAY))
    out = io.StringIO()
    call_command("demo_credit", f"--today={TODAY.isoformat()}", stdout=out)
    return out.getvalue()


def test_every_list_and_case_state_has_rows_and_at_risk_rows_say_what_to_do(county):
    officer = User.objects.get(username="credit")
    for kind in LISTS:
        assert warning_list(user=officer, kind=kind).exists(), kind
    for prediction in warning_list(user=officer, kind="at_risk"):
        assert prediction.warnings, (
            prediction.current_level,
            prediction.level,
            prediction.score,
            list(
                DishonestyEvent.objects.filter(taxpayer_id=prediction.taxpayer_id).values_list(
                    "indicator", "recorded_on", "corrected_on", "source", "tax"
                )
            ),
        )
        assert prediction.deadline is not None and prediction.deadline >= TODAY
        assert prediction.points_at_stake > 0 and prediction.score_if_repaired > prediction.score
    states = Counter(CreditCase.objects.values_list("state", flat=True))
    assert set(states) == set(CreditCase.State.values), states
    assert sum(case.is_overdue(TODAY) for case in CreditCase.objects.all()) >= 2
    granted = CreditCase.objects.filter(state__in=("approved", "partly"))
    assert all(case.new_rating is not None and case.score_after > case.score_before for case in granted)
    assert any(case.new_rating.level == "B" for case in granted)  # a C repaired to B: screened for a refund again
    assert CreditContact.objects.exists() and BankTaxOutreach.objects.exists() and BankTaxLoan.objects.exists()
    promoted = list(promotion_list(user=User.objects.get(username="service"), on=TODAY)[:1])
    assert promoted and promoted[0].is_specialized_sme  # 专精特新 first
    assert BankTaxOutreach.objects.filter(taxpayer__is_specialized_sme=True).exists()
    assert "信用申请 11 件" in county


def test_the_events_have_a_county_mix_and_predictions_are_mostly_a_or_b(county):
    imported = DishonestyEvent.objects.filter(source=DishonestyEvent.Source.IMPORTED, recorded_on__year=2025)
    with_events = imported.values("taxpayer").distinct().count()
    assert 0.1 * 300 < with_events < 0.45 * 300  # most taxpayers are clean
    by_indicator = Counter(imported.values_list("indicator", flat=True))
    assert {code for code, _ in by_indicator.most_common(2)} == {"010101", "010103"}
    assert by_indicator["010501"] > 0 and imported.filter(no_penalty=True).exists()
    assert DishonestyEvent.objects.filter(indicator__in=LOCAL_CODES).exists()  # the bank-account local codes
    assert imported.filter(corrected_on__isnull=False).count() > 0.8 * imported.count()
    assert not imported.filter(indicator="010101", tax="增值税").exists()  # late VAT returns are derived
    levels = Counter(CreditPrediction.objects.values_list("level", flat=True))
    assert (levels["A"] + levels["B"]) >= 0.8 * sum(levels.values()), levels


def test_a_second_run_adds_nothing(county):
    before = DishonestyEvent.objects.count(), CreditCase.objects.count(), BankTaxLoan.objects.count()
    out = io.StringIO()
    call_command("demo_credit", f"--today={TODAY.isoformat()}", stdout=out)
    assert "跳过" in out.getvalue()
    assert (DishonestyEvent.objects.count(), CreditCase.objects.count(), BankTaxLoan.objects.count()) == before


def test_the_generator_is_deterministic_per_taxpayer():
    subjects = [
        CreditSubject(pk, f"9133010{pk:011d}", dt.date(2015, 3, 1), level) for pk, level in
        zip(range(1, 401), "ABBBBBBCDM" * 40, strict=True)
    ]  # fmt: skip
    first = generate_events(subjects, seed=3, today=TODAY)
    assert first == generate_events(subjects, seed=3, today=TODAY)
    # Each taxpayer draws from its own generator: a smaller county gives the same rows for its taxpayers.
    assert generate_events(subjects[:50], seed=3, today=TODAY) == [r for r in first if r.taxpayer_id <= 50]
    assert all(r.recorded_on < TODAY and (r.corrected_on is None or r.corrected_on <= TODAY) for r in first)


def test_the_loop_with_refund_fills_the_repair_notices_and_the_adhoc_list(county):
    """信用修复提示 lists the push date's taxpayers failing only on their rating; a few of them repaired to B today are
    screened again and put on today's 即时名单, each with its refundable amount — all without a worker."""
    notices = RepairNotice.objects.all()
    assert notices.exists() and notices.filter(level="C").exists()
    assert all(notice.refundable_if_b > 0 for notice in notices)
    adhoc = CandidateList.objects.get(kind=CandidateList.Kind.ADHOC)
    items = list(adhoc.items.all())
    assert items and adhoc.item_count == len(items) and adhoc.refundable_total > 0
    for item in items:
        assert item.refundable_total > 0
        case = CreditCase.objects.get(taxpayer_id=item.taxpayer_id, state="approved", decided_on=TODAY)
        assert case.new_rating.level == "B" and case.level_before == "C"
        assert notices.filter(taxpayer_id=item.taxpayer_id, level="C").exists()  # told before it repaired
    assert f"列入即时名单 {len(items)} 户" in county
