from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """台账: the daily refund ledger, bills, treasury exports, statistics and dashboards."""

    name = "ledger"
    verbose_name = "退税台账"

    def ready(self) -> None:
        from accounts.audit_labels import register

        from . import signals  # noqa: F401  (connects the receivers)

        register(
            verbs={
                "ledger_payment_record": "录入退库",
                "ledger_register": "登记退税台账",
                "ledger_credit_check": "留抵核减核对",
                "ledger_payments_backfill": "导入历史退库",
                "ledger_days_backfill": "补登历史台账",
                "ledger_clawback_record": "登记追缴",
            },
            keys={"registered": "登记条目", "unbilled": "未发账单", "checked": "已核对", "not_reduced": "留抵未核减"},
        )
        # 录入退库's record beside the entry's own fields (amount, paid_on, application).
        register(
            object_type="ledger.ledgerentry",
            keys={
                "voucher_number": "退库凭证号",
                "incremental": "其中：增量",
                "stock": "其中：存量",
                "source": "来源",
                "reversed": "冲减的退库台账",
            },
        )
