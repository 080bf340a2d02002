from django.apps import AppConfig


class RefundConfig(AppConfig):
    """留抵退税: rules as code, screening, candidate lists, applications, coaching."""

    name = "refund"
    verbose_name = "留抵退税"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
