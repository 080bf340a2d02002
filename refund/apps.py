from django.apps import AppConfig


class RefundConfig(AppConfig):
    """留抵退税: rules as code, screening, candidate lists, applications, coaching."""

    name = "refund"
    verbose_name = "留抵退税"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)

        _register_audit_labels()


def _register_audit_labels() -> None:
    """The audit log's words for what refund records (accounts/audit_labels.py)."""
    from accounts.audit_labels import register

    from .applications.workflow import ACTION_LABELS

    register(
        verbs={
            "screening_start": "发起筛查",
            "candidate_lists_build": "生成候选名单",
            "candidate_list_notify": "推送候选名单",
            "candidate_remind": "发送提醒短信",
            "candidate_item_verify": "申请前调查",
            "candidate_item_decline": "放弃申请",
            "candidate_item_reopen": "恢复候选",
            "candidate_item_coach": "一对一辅导",
            "candidate_items_declared": "候选纳税人已申报",
            "candidate_items_applied": "候选纳税人已申请",
            "candidate_items_refunded": "候选纳税人已退税",
            "upper_list_import": "导入上级下发名单",
            "refund_application_receive": "受理留抵退税申请",
            "refund_application_recompute": "重新测算",
            "refund_application_assign": "分派申请",
            "refund_applications_import": "导入留抵退税申请",
            "refund_coaching_add": "记录辅导",
            "refund_application_sign_off": "局领导签批",
            "refund_sign_off_threshold_set": "调整大额退税签批标准",
            "screening_rescreen_rating": "信用级别变更后重新筛查",
            "candidate_adhoc_add": "列入即时名单",
            "candidate_adhoc_push": "推送即时名单",
            "repair_notices_list": "生成信用修复提示名单",
            "repair_notices_send": "发送信用修复提示短信",
            **{f"refund_application_{action}": label for action, label in ACTION_LABELS.items()},
        },
        keys={
            "push_date": "推送日期",
            "run": "筛查批次",
            "lists": "名单份数",
            "enqueued": "进入发件箱",
            "unreachable": "无法发送",
            "assigned_to": "经办人",
            "taxpayer": "纳税人",
            "application": "申请",
            "application_period": "申请所属期",
            "application_date": "申请日期",
            "topic": "辅导事项",
            "level": "信用级别",
            "effective_on": "生效日期",
            "added": "新增",
            "listed": "名单户数",
            "item": "名单条目",
            "taxpayers": "纳税人",
            "opinion": "签批意见",
        },
    )
