"""The risk app's models (风险管理): the parameters and grade rules risk officers edit, and the scans with their
hits and grades. One app label and one set of migrations; everything is importable from ``risk.models``."""

from .parameters import GradeRule, IndicatorParameterVersion
from .scans import RiskGrade, RiskHit, Scan, ScanResult, Severity

__all__ = [
    "GradeRule",
    "IndicatorParameterVersion",
    "RiskGrade",
    "RiskHit",
    "Scan",
    "ScanResult",
    "Severity",
]
