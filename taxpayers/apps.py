from django.apps import AppConfig


class TaxpayersConfig(AppConfig):
    name = "taxpayers"
    verbose_name = "纳税人"
