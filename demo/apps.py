from django.apps import AppConfig


class DemoConfig(AppConfig):
    """演示: the demo county — ``seed_demo``, ``demo_history``, ``demo_credit``, ``demo_banner``. The top of the
    dependency order: it may use every app and no app uses it; it writes only through the apps' services and bulk
    paths."""

    name = "demo"
    verbose_name = "演示数据"

    def ready(self) -> None:
        from accounts.audit_labels import register

        # The object types keep the names they were first recorded under, so older audit rows read the same.
        register(
            verbs={
                "demo_seeded": "生成演示数据",
                "demo_history_seeded": "生成演示历史",
                "demo_credit_seeded": "生成演示信用数据",
            },
            object_types={"taxpayers.demo": "演示数据", "ledger.demo": "演示数据", "credit.demo": "演示数据"},
        )
