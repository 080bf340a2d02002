from django.apps import AppConfig


class CreditConfig(AppConfig):
    """纳税信用: ratings, dishonesty events, warnings and repair cases (to come)."""

    name = "credit"
    verbose_name = "纳税信用"
