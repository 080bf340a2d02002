"""非正常户 lifted: the daily job follows the registry's status; under the 2025 rules a lifting repairs the direct D in
force without an application (scheduler as actor, audited), under the old rules it waits for an application."""

import datetime as dt

import pytest

from accounts.models import AuditEvent
from credit.models import CreditCase, CreditRating, NonNormalSpell
from credit.repairs.services import non_normal_spells_track
from credit.rules.parameters import (
    NON_NORMAL_LIFT_AUTOMATIC,
    NON_NORMAL_LIFT_ON_APPLICATION,
    NON_NORMAL_LIFT_REPAIR,
)
from credit.selectors import rating_in_force
from credit.warnings.services import credit_warnings_daily
from taxpayers.models import Taxpayer

pytestmark = pytest.mark.django_db


def test_the_rule_is_dated():
    assert NON_NORMAL_LIFT_REPAIR.at(dt.date(2025, 6, 30)) == NON_NORMAL_LIFT_ON_APPLICATION
    assert NON_NORMAL_LIFT_REPAIR.at(dt.date(2025, 7, 1)) == NON_NORMAL_LIFT_AUTOMATIC


def _abnormal_rated_d(taxpayer, year):
    Taxpayer.objects.filter(pk=taxpayer.pk).update(status=Taxpayer.Status.ABNORMAL)
    CreditRating.objects.create(
        taxpayer=taxpayer, year=year, level="D", evaluated_on=dt.date(year + 1, 4, 20), rule_set="2025"
    )


def _lift(taxpayer, status=Taxpayer.Status.NORMAL):
    Taxpayer.objects.filter(pk=taxpayer.pk).update(status=status)


def test_a_lifting_under_the_2025_rules_repairs_without_application(taxpayer_a, django_capture_on_commit_callbacks):
    _abnormal_rated_d(taxpayer_a, 2025)
    assert non_normal_spells_track(today=dt.date(2026, 5, 4)) == []
    assert NonNormalSpell.objects.get(taxpayer=taxpayer_a).seen_since == dt.date(2026, 5, 4)
    _lift(taxpayer_a)
    with django_capture_on_commit_callbacks(execute=True):
        (case,) = non_normal_spells_track(today=dt.date(2026, 6, 8))
    assert (case.state, case.direct_d_cause, case.direct_d_cleared_on) == (
        "approved",
        CreditCase.DirectDCause.NON_NORMAL,
        dt.date(2026, 6, 8),
    )
    assert case.created_by is None and case.officer is None  # the scheduler acted
    rating = rating_in_force(taxpayer_a, dt.date(2026, 6, 8))
    assert (rating.level, rating.basis, rating.evaluated_on) == ("B", "repaired", dt.date(2026, 6, 8))
    spell = NonNormalSpell.objects.get(taxpayer=taxpayer_a)
    assert (spell.lifted_on, spell.repair_case_id) == (dt.date(2026, 6, 8), case.pk)
    verbs = set(AuditEvent.objects.filter(actor__isnull=True).values_list("verb", flat=True))
    assert {"credit_non_normal_track", "credit_case_receive", "credit_case_decide"} <= verbs
    assert non_normal_spells_track(today=dt.date(2026, 6, 9)) == []  # twice: nothing more


def test_a_lifting_under_the_old_rules_waits_for_an_application(taxpayer_a):
    _abnormal_rated_d(taxpayer_a, 2024)
    non_normal_spells_track(today=dt.date(2025, 5, 4))
    _lift(taxpayer_a)
    assert non_normal_spells_track(today=dt.date(2025, 6, 30)) == []
    assert not CreditCase.objects.exists()
    assert NonNormalSpell.objects.get(taxpayer=taxpayer_a).lifted_on == dt.date(2025, 6, 30)


def test_a_deregistration_is_not_a_lifting(taxpayer_a):
    _abnormal_rated_d(taxpayer_a, 2025)
    non_normal_spells_track(today=dt.date(2026, 5, 4))
    _lift(taxpayer_a, Taxpayer.Status.DEREGISTERED)
    assert non_normal_spells_track(today=dt.date(2026, 6, 8)) == []
    assert "注销" in NonNormalSpell.objects.get(taxpayer=taxpayer_a).note


def test_a_repair_the_rules_refuse_is_left_to_an_officer(taxpayer_a):
    _abnormal_rated_d(taxpayer_a, 2025)
    CreditRating.objects.filter(taxpayer=taxpayer_a).update(level="D", score=None)
    non_normal_spells_track(today=dt.date(2026, 5, 4))
    _lift(taxpayer_a)
    first = non_normal_spells_track(today=dt.date(2026, 6, 8))
    assert len(first) == 1
    # a second spell lifted the same calendar year: 非正常户 repair is granted once a year
    CreditRating.objects.create(
        taxpayer=taxpayer_a, year=2025, level="D", evaluated_on=dt.date(2026, 7, 1), rule_set="2025"
    )
    Taxpayer.objects.filter(pk=taxpayer_a.pk).update(status=Taxpayer.Status.ABNORMAL)
    non_normal_spells_track(today=dt.date(2026, 7, 2))
    _lift(taxpayer_a)
    assert non_normal_spells_track(today=dt.date(2026, 8, 3)) == []
    spell = NonNormalSpell.objects.filter(taxpayer=taxpayer_a).order_by("-seen_since").first()
    assert spell.repair_case is None and "请人工办理" in spell.note and "只能申请一次" in spell.note


def test_the_daily_job_runs_the_step(taxpayer_a):
    _abnormal_rated_d(taxpayer_a, 2025)
    credit_warnings_daily(today=dt.date(2026, 5, 4))
    assert NonNormalSpell.objects.filter(taxpayer=taxpayer_a, lifted_on__isnull=True).exists()
