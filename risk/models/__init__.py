"""The risk app's models (风险管理): the parameters and grade rules risk officers edit, the scans with their
hits and grades, the monthly post-refund review sample (事后复核) with its parameters, and the collective
consultations (集体会商). One app label and one set of migrations; everything is importable from ``risk.models``."""

from .consultations import Consultation, ConsultationParticipant, Section
from .parameters import GradeRule, IndicatorParameterVersion
from .sampling import MonthlySample, SampledRefund, SampleParameterVersion
from .scans import RiskGrade, RiskHit, Scan, ScanResult, Severity

__all__ = [
    "Consultation",
    "ConsultationParticipant",
    "GradeRule",
    "IndicatorParameterVersion",
    "MonthlySample",
    "RiskGrade",
    "RiskHit",
    "SampleParameterVersion",
    "SampledRefund",
    "Scan",
    "ScanResult",
    "Section",
    "Severity",
]
