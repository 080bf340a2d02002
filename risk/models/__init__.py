"""The risk app's models (风险管理): the parameters and grade rules risk officers edit, the scans with their
hits and grades, and the monthly post-refund review sample (事后复核) with its parameters. One app label and one
set of migrations; everything is importable from ``risk.models``."""

from .parameters import GradeRule, IndicatorParameterVersion
from .sampling import MonthlySample, SampledRefund, SampleParameterVersion
from .scans import RiskGrade, RiskHit, Scan, ScanResult, Severity

__all__ = [
    "GradeRule",
    "IndicatorParameterVersion",
    "MonthlySample",
    "RiskGrade",
    "RiskHit",
    "SampleParameterVersion",
    "SampledRefund",
    "Scan",
    "ScanResult",
    "Severity",
]
