from django.apps import AppConfig


class CreditConfig(AppConfig):
    """纳税信用: the rating history, dishonesty events and their imports; warnings; repair, 复核 and 复评 cases;
    the credit officer's 工作台 block. The registry's pages read each taxpayer's latest level through the reader
    registered here."""

    name = "credit"
    verbose_name = "纳税信用"

    def ready(self) -> None:
        _register_audit_labels()
        from taxpayers.ratings import register_latest_rating

        from .selectors import with_latest_level

        register_latest_rating(with_latest_level)
        from accounts.home_blocks import register_home_block

        from .home import home_block

        register_home_block(home_block)
        from .warnings import receivers  # noqa: F401  (connects the prediction's refresh to rating_changed)


def _register_audit_labels() -> None:
    """The audit log's words for what credit records (accounts.audit_labels)."""
    from accounts.audit_labels import register

    register(
        verbs={
            "late_returns_derive": "推算逾期申报",
            "credit_non_normal_track": "登记非正常户认定与解除",
            "credit_warning_sms": "发送纳税信用预警短信",
            "credit_contact": "登记纳税信用联系",
            "credit_case_receive": "受理信用修复、复核、复评申请",
            "credit_case_review": "开始审核信用申请",
            "credit_case_raise": "信用申请提请上级",
            "credit_case_answer": "登记上级答复",
            "credit_case_decide": "决定信用申请",
            "credit_case_withdraw": "撤回信用申请",
            "banktax_outreach": "登记银税互动宣传",
            "banktax_loan": "登记银税互动贷款",
            "dishonesty_events_backfill": "补录历史失信行为",
        },
        object_types={
            "credit.creditcase": "纳税信用修复、复核、复评申请",
            "credit.creditimport": "信用数据导入",
            "credit.dishonestyevent": "失信行为记录",
            "credit.creditrating": "纳税信用评价结果",
            "credit.creditprediction": "信用预测",
            "credit.creditcontact": "信用联系记录",
            "credit.banktaxoutreach": "银税互动宣传记录",
            "credit.banktaxloan": "银税互动贷款",
        },
        keys={"kind": "导入类型"},
        object_type="credit.creditimport",
    )
    register(keys={"seen": "新认定为非正常户", "ended": "不再是非正常户"}, object_type="credit.nonnormalspell")
