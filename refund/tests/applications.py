"""Builders for the application tests: taxpayers the rules find eligible for 2026-03, received applications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from core.periods import Period
from refund.applications.services import application_confirm, application_receive, compute_application
from refund.models import RefundApplication
from refund.tests.candidates import PERIOD, eligible_taxpayer, ineligible_taxpayer

RECEIVED_ON = dt.date(2026, 3, 10)

__all__ = [
    "PERIOD",
    "RECEIVED_ON",
    "confirming_officer",
    "eligible_taxpayer",
    "ineligible_taxpayer",
    "paid",
    "receive",
    "reviewing",
    "rules_amount",
]


def rules_amount(taxpayer, *, period: str = PERIOD, kind: str = "both", received_on: dt.date = RECEIVED_ON) -> Decimal:
    """What the rules give the taxpayer's application now."""
    computation = compute_application(
        taxpayer_id=taxpayer.pk,
        application_period=Period.typed(period),
        received_on=received_on,
        kind=kind,
        options=None,
    )
    assert computation.figures.amount is not None, computation.decision
    return computation.figures.amount


def receive(
    actor,
    taxpayer,
    *,
    claimed: Decimal | None = None,
    period: str = PERIOD,
    kind: str = "both",
    received_on: dt.date = RECEIVED_ON,
    **kwargs,
) -> RefundApplication:
    """An application claiming exactly what the rules give (so the arrival gate finds nothing) unless told."""
    if claimed is None:
        claimed = rules_amount(taxpayer, period=period, kind=kind, received_on=received_on)
    return application_receive(
        actor=actor,
        taxpayer=taxpayer,
        application_period=period,
        kind=kind,
        claimed_amount=claimed,
        received_on=received_on,
        **kwargs,
    )


def confirming_officer(taxpayer):
    """Who confirms (调查核实、确认) as in the bureau: an officer of the taxpayer's branch (made when the test has
    none), so that the refund officer who approves is another person (岗责分离)."""
    from accounts.models import User
    from accounts.roles import RoleCode

    officers = User.objects.filter(branch_id=taxpayer.branch_id, groups__name=RoleCode.BRANCH_OFFICER.value)
    officer = officers.order_by("pk").first()
    if officer is None:
        officer, _ = User.objects.get_or_create(
            username=f"confirming_{taxpayer.branch_id}",
            defaults={"full_name": "分局确认人", "branch_id": taxpayer.branch_id},
        )
    return officer


def reviewing(actor, taxpayer, **kwargs) -> RefundApplication:
    """Received clean by ``actor`` and confirmed with the rules' figures by the taxpayer's branch officer
    (``confirming_officer``): waiting for approval, which ``actor`` may then give."""
    application = receive(actor, taxpayer, **kwargs)
    assert application.state == RefundApplication.State.RECEIVED, application.decision_reason
    return application_confirm(actor=confirming_officer(taxpayer), application=application)


def paid(
    taxpayer, *, period: str, regime: str, incremental: Decimal, stock: Decimal, paid_on: dt.date | None = None
) -> RefundApplication:
    """A refund already paid (as the ledger leaves it), stored directly: the rules' previous_refunds."""
    total = incremental + stock
    kind = "both" if incremental and stock else ("stock" if stock else "incremental")
    paid_on = paid_on or Period.typed(period).first_day.replace(day=20)
    return RefundApplication.objects.create(
        taxpayer=taxpayer,
        branch_id=taxpayer.branch_id,
        application_period=period,
        kind=kind,
        received_on=paid_on,
        due_on=paid_on,
        claimed_amount=total,
        regime=regime,
        confirmed_amount=total,
        confirmed_incremental=incremental,
        confirmed_stock=stock,
        approved_at=timezone.now(),
        state=RefundApplication.State.PAID,
        paid_on=paid_on,
        paid_amount=total,
        paid_incremental=incremental,
        paid_stock=stock,
    )
