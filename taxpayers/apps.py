from django.apps import AppConfig


class TaxpayersConfig(AppConfig):
    name = "taxpayers"
    verbose_name = "纳税人"

    def ready(self) -> None:
        from accounts.audit_labels import register

        register(verbs={"demo_seeded": "生成演示数据"}, object_types={"taxpayers.demo": "演示数据"})
