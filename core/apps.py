from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The neutral kernel every app may use (errors, money, periods, lists, xlsx, masking): no models, no business,
    and it imports no other app of ours, so that notify and every app can stand on it."""

    name = "core"
    verbose_name = "公共基础"
