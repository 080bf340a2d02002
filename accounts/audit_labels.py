"""The Chinese words of the audit log: what was done (verbs), to what (object types) and which figures changed.

accounts writes and shows the log but knows no business, so each app registers its own words in its
``AppConfig.ready()`` (a lower app offers a registry, the higher app fills it: accounts imports no app above
it). A change key that is a model field is named by the field's verbose name and its values by the field's
choices; a key that is not a field (a count, a list of ids) needs a registered label. ``tests/test_crawl.py``
reads the demo's own log, and ``tests/test_audit_labels.py`` checks that every verb written in the code has a
label.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

VERBS: dict[str, str] = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "import": "导入",
    "export": "导出",
    "view_contacts": "查看完整信息",
    "login": "登录",
    "logout": "退出",
    "send": "发送",
    "resend": "重发",
}
OBJECT_TYPES: dict[str, str] = {}
# (object type, key) -> label; the object type "" applies to every type. The generic counts of bulk work:
KEYS: dict[tuple[str, str], str] = {
    ("", "rows"): "行数",
    ("", "created"): "新增",
    ("", "updated"): "更新",
    ("", "unchanged"): "未变化",
    ("", "skipped"): "跳过",
    ("", "count"): "条数",
    ("", "items"): "涉及记录",
    ("", "ids"): "涉及记录",
    ("", "users"): "通知用户",
    ("", "sha256"): "文件校验值",
    ("", "reason"): "原因",
}


def register(
    *,
    verbs: dict[str, str] | None = None,
    object_types: dict[str, str] | None = None,
    keys: dict[str, str] | None = None,
    object_type: str = "",
) -> None:
    """Add an app's words; ``keys`` name the change keys of ``object_type`` (or of every type when empty)."""
    VERBS.update(verbs or {})
    OBJECT_TYPES.update(object_types or {})
    KEYS.update({(object_type, key): label for key, label in (keys or {}).items()})


def verb_label(verb: str) -> str:
    return VERBS.get(verb, verb)


def object_type_label(object_type: str) -> str:
    """``taxpayers.taxpayer`` -> ``纳税人`` (the model's verbose name), else a registered name, else the type."""
    if object_type in OBJECT_TYPES:
        return OBJECT_TYPES[object_type]
    model = _model(object_type)
    return str(model._meta.verbose_name) if model else object_type


def _model(object_type: str):
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(object_type: str, key: str):
    """The model's concrete field named ``key`` (reverse relations and unknown names: None)."""
    model = _model(object_type)
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return field if getattr(field, "concrete", False) else None


def key_label(object_type: str, key: str) -> str:
    registered = KEYS.get((object_type, key)) or KEYS.get(("", key))
    if registered:
        return registered
    field = _field(object_type, key)
    return str(field.verbose_name) if field is not None else key


def change_rows(object_type: str, changes: dict | None) -> list[tuple[str, object, object]]:
    """``changes`` as (label, before, after). A model field's value is a [before, after] pair; any other key
    (a count, a list of ids) holds one value, shown as the after."""
    rows = []
    for key, value in (changes or {}).items():
        is_pair = _field(object_type, key) is not None and isinstance(value, list | tuple) and len(value) == 2
        before, after = value if is_pair else (None, value)
        label = key_label(object_type, key)
        rows.append((label, value_text(object_type, key, before), value_text(object_type, key, after)))
    return rows


LIST_SHOWN = 5  # a long list of ids is shown by its first few and its length


def value_text(object_type: str, key: str, value) -> object:
    """A recorded value as an officer reads it: a choice by its label, yes/no, a list joined."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        shown = "、".join(str(value_text(object_type, key, v)) for v in value[:LIST_SHOWN])
        return f"{shown} 等 {len(value)} 项" if len(value) > LIST_SHOWN else shown or None
    field = _field(object_type, key)
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    return value
