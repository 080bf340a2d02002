"""Two officers approve the same application at the same moment, each on its own database connection:
exactly one approval happens, the other officer is told someone else got there first."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.errors import ConflictError
from refund.applications.services import application_approve, application_reject
from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, reviewing

State = RefundApplication.State


def _race(actions) -> list:
    """Run each action in its own thread (own connection), released together; what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def work(index, action):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = action()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_approvers_approve_once(org, personas):
    application = reviewing(personas["refund_officer"], eligible_taxpayer(org["branch_a"]))
    approvers = [personas["refund_officer"], personas["admin"]]

    def approve(user):
        page = RefundApplication.objects.get(pk=application.pk)  # each officer has the application open
        return lambda: application_approve(actor=user, application=page)

    outcomes = _race([approve(user) for user in approvers])
    won = [o for o in outcomes if isinstance(o, RefundApplication)]
    lost = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "已被他人处理" in lost[0].message
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert application.transitions.filter(to_state=State.APPROVED).count() == 1
    assert application.approved_by == won[0].approved_by


@pytest.mark.django_db(transaction=True)
def test_approval_racing_a_rejection_leaves_one_decision(org, personas):
    application = reviewing(personas["refund_officer"], eligible_taxpayer(org["branch_a"]))
    officer = personas["refund_officer"]

    one, other = (RefundApplication.objects.get(pk=application.pk) for _ in range(2))  # two open pages
    outcomes = _race(
        [
            lambda: application_approve(actor=officer, application=one),
            lambda: application_reject(actor=officer, application=other, reason="进项发票异常"),
        ]
    )
    assert sum(isinstance(o, RefundApplication) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1, outcomes
    application.refresh_from_db()
    decisions = application.transitions.filter(to_state__in=[State.APPROVED, State.REJECTED])
    assert decisions.count() == 1 and decisions.get().to_state == application.state
    if application.state == State.REJECTED:
        assert application.approved_at is None
