from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from . import notify_audit

        notify_audit.connect()  # audit events for notify's pages (notify.signals)
