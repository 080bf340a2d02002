from django.apps import AppConfig


class NotifyConfig(AppConfig):
    """消息通知: templates, the SMS outbox and its backends, the in-app inbox. Imports no app of ours but core."""

    name = "notify"
    verbose_name = "消息通知"
