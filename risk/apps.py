import importlib.util

from django.apps import AppConfig

CHECKS_MODULE = "risk.application_checks"


class RiskConfig(AppConfig):
    """风险管理: indicators, scans, hits, risk tasks and consultations (to come)."""

    name = "risk"
    verbose_name = "风险管理"

    def ready(self) -> None:
        register_application_checks()


def register_application_checks(module_name: str = CHECKS_MODULE) -> bool:
    """Give the applications' risk gate this app's checks (the ``APPLICATION_CHECKS`` of ``module_name``) through
    refund's registry — refund never imports risk. Nothing is registered while the module does not exist."""
    if importlib.util.find_spec(module_name) is None:
        return False
    from refund.applications.risk import register_application_checks as register

    register(getattr(importlib.import_module(module_name), "APPLICATION_CHECKS", ()))
    return True
