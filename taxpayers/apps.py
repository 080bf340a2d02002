from django.apps import AppConfig


class TaxpayersConfig(AppConfig):
    name = "taxpayers"
    verbose_name = "纳税人"

    def ready(self) -> None:
        from accounts.audit_labels import register

        register(
            verbs={
                "taxpayers_bulk_load": "批量写入纳税人",
                "taxpayers_bulk_delete": "批量删除纳税人",
                "invoices_bulk_load": "批量写入发票数据",
            }
        )
