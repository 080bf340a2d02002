"""The scoping gateway: the one place that decides which branches' data a user may see.

Every selector starts here. A branch officer (税源管理分局) sees only its own
branch; roles that work across the bureau see every branch; a user with no role
sees nothing. An object outside the user's scope is a 404, never a 403, so its
existence is not revealed.
"""

from django.db.models import QuerySet
from django.http import Http404

from .roles import ROLES


def visible_branch_ids(user) -> set[int] | None:
    """``None`` means every branch; an empty set means none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser or any(ROLES[code].sees_all_branches for code in user.role_codes):
        return None
    if user.role_codes and user.branch_id:
        return {user.branch_id}
    return set()


def scope_to_user(queryset: QuerySet, *, user, branch_field: str = "branch") -> QuerySet:
    """Restrict ``queryset`` to the branches ``user`` may see; ``branch_field`` is the path to the branch FK."""
    branch_ids = visible_branch_ids(user)
    if branch_ids is None:
        return queryset
    if not branch_ids:
        return queryset.none()
    return queryset.filter(**{f"{branch_field}__in": branch_ids})


def get_for_user_or_404(queryset: QuerySet, *, user, branch_field: str = "branch", **lookup):
    try:
        return scope_to_user(queryset, user=user, branch_field=branch_field).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404("not found or outside the user's scope") from exc
