"""Signals notify sends to the apps above it (a lower app tells a higher one by signal).

``audit_requested`` asks for an audit event for an action taken in notify's own pages (a batch
created, failed messages resent, an export). notify cannot import ``accounts.audit``; accounts
connects the receiver (``accounts.notify_audit``) and writes the event with ``record_event`` inside
the sender's transaction, so the event and the change commit together.

Arguments: ``actor``, ``verb``, and any of ``object_type``, ``object_id``, ``object_repr``, ``summary``,
``changes`` (those of ``accounts.audit.record_event``).
"""

from django.dispatch import Signal

audit_requested = Signal()
