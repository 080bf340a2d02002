from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """台账: the daily refund ledger, bills, treasury exports, statistics and dashboards."""

    name = "ledger"
    verbose_name = "退税台账"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
