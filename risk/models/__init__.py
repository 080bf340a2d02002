"""The risk app's models (风险管理): the parameters and grade rules risk officers edit, the scans with their
hits and grades, and the risk tasks through six stages with their responses and transfers to inspection. One app
label and one set of migrations; everything is importable from ``risk.models``."""

from .parameters import GradeRule, IndicatorParameterVersion
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
    "GradeRule",
    "IndicatorParameterVersion",
    "InspectionTransfer",
    "RiskGrade",
    "RiskHit",
    "RiskTask",
    "RiskTaskFile",
    "RiskTaskImport",
    "RiskTaskStage",
    "Scan",
    "ScanResult",
    "Severity",
    "TaskSource",
    "TaskStage",
]
