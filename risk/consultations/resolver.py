"""The answer refund's approval asks for a 高风险 application (``refund.applications.risk.consultation_allows``):
whether the application's latest collective consultation decided 同意退税. A consultation still open, or a later
one that decided otherwise, does not allow it."""

from __future__ import annotations

from ..models import Consultation


def consultation_allows(application) -> bool:
    latest = (
        Consultation.objects.filter(application_id=application.pk)
        .order_by("-id")
        .values_list("state", "decision")
        .first()
    )
    return latest == (Consultation.State.DECIDED, Consultation.Decision.APPROVE)
