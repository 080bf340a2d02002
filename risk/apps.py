from django.apps import AppConfig


class RiskConfig(AppConfig):
    """风险管理: indicators, scans, hits, risk tasks and consultations (to come)."""

    name = "risk"
    verbose_name = "风险管理"
