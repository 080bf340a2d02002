"""关联评价为D (040104 / 040105): the rules repair a related direct D once its cause is cleared (at most B), and the
case service offers the repair only when the linked taxpayer is no longer 非正常户 / D, after the clean months the
rules ask for."""

import datetime as dt
from decimal import Decimal

import pytest

from credit.models import CreditCase, CreditRating, DishonestyEvent
from credit.repairs import services
from credit.repairs.figures import DirectDClaim
from credit.repairs.services import CaseRefused
from credit.rules import Evaluation, TaxpayerFacts, assess
from credit.rules.options import Options
from credit.rules.parameters import STA_2019_37, STA_2021_31
from credit.rules.related import (
    RELATED_D_REPAIR,
    RELATED_D_TAXPAYER,
    RELATED_NON_NORMAL,
    LinkedFirm,
    related_d_clean_months,
    related_d_cleared,
    related_direct_d,
)
from credit.tests.helpers import receive_case
from taxpayers.models import Taxpayer

LINKED_D = CreditCase.DirectDCause.LINKED_D
LINKED_ABNORMAL = CreditCase.DirectDCause.LINKED_ABNORMAL


@pytest.mark.parametrize(
    ("code", "linked", "cleared"),
    [
        (RELATED_NON_NORMAL, LinkedFirm(non_normal=True, level="D"), False),
        (RELATED_NON_NORMAL, LinkedFirm(non_normal=False, level="D"), True),
        (RELATED_D_TAXPAYER, LinkedFirm(non_normal=False, level="D"), False),
        (RELATED_D_TAXPAYER, LinkedFirm(non_normal=False, level="B"), True),
        (RELATED_D_TAXPAYER, LinkedFirm(non_normal=False, level=None), True),
    ],
)
def test_the_cause_is_cleared_when_the_linked_firm_is_no_longer_non_normal_or_d(code, linked, cleared):
    assert related_d_cleared(code, linked) is cleared


@pytest.mark.parametrize(("year", "rule_set"), [(2024, "CN-2014-40"), (2025, "CN-2025-12")])
def test_the_rules_repair_a_cleared_related_d_to_b_at_most(year, rule_set):
    facts = TaxpayerFacts(
        first_tax_matter_date=dt.date(2015, 1, 1),
        direct_d=(related_direct_d(RELATED_D_TAXPAYER, dt.date(year, 12, 31), dt.date(year + 1, 5, 1)),),
    )
    repaired = assess(Evaluation(year=year, as_of=dt.date(year + 1, 6, 1), taxpayer=facts))
    assert (repaired.rule_set, repaired.level) == (rule_set, "B")
    assert "direct_d_repaired" in repaired.not_a_reasons
    still = assess(
        Evaluation(
            year=year,
            as_of=dt.date(year + 1, 6, 1),
            taxpayer=TaxpayerFacts(direct_d=(related_direct_d(RELATED_NON_NORMAL, dt.date(year, 12, 31), None),)),
        )
    )
    assert still.level == "D"


def test_the_clean_months_are_dated_and_an_option():
    assert related_d_clean_months(dt.date(2021, 6, 1), Options()) == 0
    assert STA_2019_37 in RELATED_D_REPAIR.citation_at(dt.date(2021, 6, 1))
    assert related_d_clean_months(dt.date(2024, 6, 1), Options()) == 6
    assert STA_2021_31 in RELATED_D_REPAIR.citation_at(dt.date(2024, 6, 1))
    assert related_d_clean_months(dt.date(2026, 6, 1), Options()) == 6
    assert related_d_clean_months(dt.date(2026, 6, 1), Options(related_d_clean_months="none")) == 0


def _related_d(taxpayer, year=2024):
    return CreditRating.objects.create(
        taxpayer=taxpayer, year=year, level="D", evaluated_on=dt.date(year + 1, 4, 20), rule_set="2014"
    )


def _rate(taxpayer, level, on, year=2024):
    CreditRating.objects.create(
        taxpayer=taxpayer,
        year=year,
        level=level,
        score=None if level == "D" else Decimal("75"),
        evaluated_on=on,
        rule_set="2014",
    )


def _receive(officer, taxpayer, claim, received_on=dt.date(2025, 7, 10)):
    return receive_case(officer, taxpayer, {}, year=2024, received_on=received_on, direct_d=claim)


@pytest.mark.django_db
def test_the_case_service_offers_the_repair_once_the_linked_taxpayer_is_no_longer_d(personas, taxpayer_a, taxpayer_b):
    officer = personas["credit_officer"]
    _related_d(taxpayer_a)
    _rate(taxpayer_b, "D", dt.date(2025, 4, 20))
    claim = DirectDClaim(LINKED_D, dt.date(2025, 6, 30), taxpayer_b.pk)
    with pytest.raises(CaseRefused) as refused:
        _receive(officer, taxpayer_a, claim)
    assert "关联纳税人目前仍为D级" in refused.value.reasons[0]

    _rate(taxpayer_b, "B", dt.date(2025, 6, 30))  # the linked firm repaired out of D
    case = _receive(officer, taxpayer_a, claim)
    assert (case.direct_d_cause, case.linked_taxpayer_id, case.level_after) == (LINKED_D, taxpayer_b.pk, "B")
    services.credit_case_review(actor=officer, case_id=case.pk)
    case = services.credit_case_decide(
        actor=officer, case_id=case.pk, granted_event_ids=[], direct_d_granted=True, on=dt.date(2025, 7, 20)
    )
    assert (case.state, case.new_rating.level, case.new_rating.basis) == ("approved", "B", "repaired")


@pytest.mark.django_db
def test_a_linked_non_normal_account_must_be_lifted_and_six_clean_months_had(personas, taxpayer_a, taxpayer_b):
    officer = personas["credit_officer"]
    _related_d(taxpayer_a)
    Taxpayer.objects.filter(pk=taxpayer_b.pk).update(status=Taxpayer.Status.ABNORMAL)
    claim = DirectDClaim(LINKED_ABNORMAL, dt.date(2025, 6, 1), taxpayer_b.pk)
    with pytest.raises(CaseRefused) as refused:
        _receive(officer, taxpayer_a, claim)
    assert "仍为非正常户" in refused.value.reasons[0]

    Taxpayer.objects.filter(pk=taxpayer_b.pk).update(status=Taxpayer.Status.NORMAL)
    DishonestyEvent.objects.create(taxpayer=taxpayer_a, indicator="010103", recorded_on=dt.date(2025, 3, 1))
    with pytest.raises(CaseRefused) as refused:
        _receive(officer, taxpayer_a, claim)
    assert "连续6个月没有新的失信行为记录" in refused.value.reasons[0]
    case = _receive(officer, taxpayer_a, claim, received_on=dt.date(2025, 9, 2))
    assert case.level_after == "B"


@pytest.mark.django_db
def test_a_related_d_names_its_linked_taxpayer(personas, taxpayer_a):
    _related_d(taxpayer_a)
    for claim in (
        DirectDClaim(LINKED_D, dt.date(2025, 6, 1)),
        DirectDClaim(LINKED_D, dt.date(2025, 6, 1), taxpayer_a.pk),
    ):
        with pytest.raises(CaseRefused) as refused:
            _receive(personas["credit_officer"], taxpayer_a, claim)
        assert "须填写关联纳税人" in refused.value.reasons[0]
