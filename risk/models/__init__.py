"""The risk app's models (风险管理): the parameters and grade rules risk officers edit, the scans with their
hits and grades, the monthly post-refund review sample (事后复核) with its parameters, the collective
consultations (集体会商), and the risk tasks through six stages with their responses and transfers to inspection.
One app label and one set of migrations; everything is importable from ``risk.models``."""

from .consultations import Consultation, ConsultationParticipant, Section
from .parameters import GradeRule, IndicatorParameterVersion
from .sampling import MonthlySample, SampledRefund, SampleParameterVersion
from .scans import RiskGrade, RiskHit, Scan, ScanResult, Severity
from .tasks import (
    DUE_STAGES,
    OPEN_STAGES,
    InspectionTransfer,
    RiskTask,
    RiskTaskFile,
    RiskTaskImport,
    RiskTaskStage,
    TaskSource,
    TaskStage,
)

__all__ = [
    "DUE_STAGES",
    "OPEN_STAGES",
    "Consultation",
    "ConsultationParticipant",
    "GradeRule",
    "IndicatorParameterVersion",
    "InspectionTransfer",
    "MonthlySample",
    "RiskGrade",
    "RiskHit",
    "RiskTask",
    "RiskTaskFile",
    "RiskTaskImport",
    "RiskTaskStage",
    "SampleParameterVersion",
    "SampledRefund",
    "Scan",
    "ScanResult",
    "Section",
    "Severity",
    "TaskSource",
    "TaskStage",
]
