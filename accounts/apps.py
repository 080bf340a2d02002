from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from . import api, notify_audit  # noqa: F401  (api: the logout receiver)

        notify_audit.connect()  # audit events for notify's pages (notify.signals)
