"""Audit events for the actions taken in notify's pages (notify sends ``notify.signals.audit_requested``).

notify imports no app of ours but core, so it cannot call ``record_event`` itself; accounts may use notify and
listens. The receiver runs synchronously inside the sender's transaction.
"""

from .audit import record_event


def record_notify_event(sender, *, actor, verb, **fields):
    allowed = {"object_type", "object_id", "object_repr", "summary", "changes"}
    record_event(actor=actor, verb=verb, **{key: value for key, value in fields.items() if key in allowed})


def connect():
    from notify.signals import audit_requested

    audit_requested.connect(record_notify_event, dispatch_uid="accounts.record_notify_event")
