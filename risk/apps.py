import importlib.util

from django.apps import AppConfig

CHECKS_MODULE = "risk.application_checks"


class RiskConfig(AppConfig):
    """风险管理: the indicator library and its parameters, scans with their hits and grades (and the 工作台 block of
    the latest scan's hits); the applications' gate
    checks and their scan on arrival and before approval, handed to refund's registries; risk tasks and
    consultations to come."""

    name = "risk"
    verbose_name = "风险管理"

    def ready(self) -> None:
        register_application_checks()
        register_application_scanner()
        _register_audit_labels()
        from accounts.home_blocks import register_home_block

        from . import scan_jobs  # noqa: F401 - registers the scan's Celery task with every worker
        from .home import home_block

        register_home_block(home_block)


def _register_audit_labels() -> None:
    """The audit log's words for what risk records (accounts.audit_labels)."""
    from accounts.audit_labels import register

    register(
        verbs={
            "risk.scan": "发起风险扫描",
            "risk.parameter_change": "修改风险指标参数",
            "risk.grade_rule_change": "修改风险等级规则",
        },
        object_types={
            "risk.scan": "风险扫描",
            "risk.riskhit": "风险疑点",
            "risk.indicatorparameterversion": "风险指标参数",
            "risk.graderule": "风险等级规则",
        },
    )


def register_application_checks(module_name: str = CHECKS_MODULE) -> bool:
    """Give the applications' risk gate this app's checks (the ``APPLICATION_CHECKS`` of ``module_name``, the four
    of ``risk.application_checks`` by default) through refund's registry — refund never imports risk. False, and
    nothing registered, for a module that does not exist."""
    if importlib.util.find_spec(module_name) is None:
        return False
    from refund.applications.risk import register_application_checks as register

    register(getattr(importlib.import_module(module_name), "APPLICATION_CHECKS", ()))
    return True


def register_application_scanner() -> None:
    """Give the applications' workflow this app's scan on arrival and before approval, with the grade and the page's
    panel (``risk.application_scans``), through refund's registry."""
    from refund.applications.risk import register_application_scanner as register

    from .application_scans import SCANNER

    register(SCANNER)
