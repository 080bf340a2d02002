"""The refund app's models, one module per package (screening, candidates, applications), one app label
and one set of migrations; everything is importable from ``refund.models`` as before."""

from .applications import (
    OPEN_APPLICATION_STATES,
    PAID_STATES,
    REFUND_OBTAINED_STATES,
    UNPAID_STATES,
    ApplicationRiskHit,
    ApplicationTransition,
    CoachingRecord,
    RefundApplication,
    SignOffThreshold,
)
from .candidates import (
    CLOSED_STAGES,
    OPEN_STAGES,
    CandidateCoaching,
    CandidateItem,
    CandidateList,
    CandidateSettings,
    UpperListEntry,
    UpperListImport,
)
from .repair_notices import RepairNotice
from .screening import AggregateState, ReturnState, ScreeningResult, ScreeningRun

__all__ = [
    "CLOSED_STAGES",
    "OPEN_APPLICATION_STATES",
    "OPEN_STAGES",
    "PAID_STATES",
    "REFUND_OBTAINED_STATES",
    "UNPAID_STATES",
    "AggregateState",
    "ApplicationRiskHit",
    "ApplicationTransition",
    "CandidateCoaching",
    "CandidateItem",
    "CandidateList",
    "CandidateSettings",
    "CoachingRecord",
    "RefundApplication",
    "RepairNotice",
    "ReturnState",
    "ScreeningResult",
    "ScreeningRun",
    "SignOffThreshold",
    "UpperListEntry",
    "UpperListImport",
]
