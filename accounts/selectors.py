"""Reads for the accounts app: the audit log."""

from collections.abc import Mapping

from django.db.models import QuerySet

from core.listing import sort_order

from .filters import AuditEventFilter
from .models import AuditEvent
from .scoping import scope_to_user

AUDIT_PERMISSION = "accounts.view_auditevent"
AUDIT_COLUMNS = {"created": "时间", "actor": "操作人", "verb": "操作", "object_type": "对象"}
"""The audit log's sortable columns (header links; ``sort`` in the URL, ``-`` for descending)."""
AUDIT_SORT_FIELDS = {
    "created": ("created_at",),
    "actor": ("actor__username",),
    "verb": ("verb",),
    "object_type": ("object_type",),
}
AUDIT_SORT = "-created"


def audit_event_filterset(*, user, filters: Mapping | None) -> AuditEventFilter:
    """The bound filter set over the audit events ``user`` may read (none without ``accounts.view_auditevent``).

    Supervisors and admins work across the bureau and so see every event; the gateway would limit any
    future branch-level reader to events by actors of its own branches.
    """
    queryset = AuditEvent.objects.select_related("actor")
    if not user.has_perm(AUDIT_PERMISSION):
        queryset = queryset.none()
    else:
        queryset = scope_to_user(queryset, user=user, branch_field="actor__branch")
    order = sort_order((filters or {}).get("sort"), AUDIT_SORT_FIELDS, default=AUDIT_SORT, then=("-created_at",))
    return AuditEventFilter(data=filters or {}, queryset=queryset.order_by(*order))


def audit_events_for_user(*, user, filters: Mapping | None = None) -> QuerySet[AuditEvent]:
    """Audit events matching ``filters`` (actor, verb, object_type, date_from, date_to, request_id), newest first."""
    return audit_event_filterset(user=user, filters=filters).qs
