from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from . import api, notify_audit  # noqa: F401  (api: the logout receiver)

        notify_audit.connect()  # audit events for notify's pages (notify.signals)
        _register_audit_labels()


def _register_audit_labels() -> None:
    """The audit log's words for 用户与岗位 and passwords (accounts/services.py)."""
    from .audit_labels import register

    register(
        verbs={
            "user_roles_change": "修改用户岗位",
            "role_grant_request": "申请授予岗位",
            "role_grant_approve": "确认授予岗位",
            "role_grant_reject": "驳回岗位授权",
            "role_grant_withdraw": "撤回岗位授权申请",
            "user_password_reset": "重置密码",
            "password_reset_request": "申请重置密码",
            "password_reset_approve": "确认重置密码",
            "password_reset_reject": "驳回密码重置",
            "password_reset_withdraw": "撤回密码重置申请",
            "password_change": "修改密码",
        },
    )
    register(
        object_type="accounts.user",
        keys={
            "groups": "岗位",
            "is_active": "账户启用",
            "is_staff": "可进入后台管理",
            "api_tokens_revoked": "作废的接口令牌",
        },
    )
