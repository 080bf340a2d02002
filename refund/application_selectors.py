"""Reads of 留抵退税申请, always through the scoping gateway: a branch officer sees its branch's applications
only; an application outside the user's scope is a 404."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.scoping import get_for_user_or_404, scope_to_user

from .models import RefundApplication


def applications_for_user(*, user) -> QuerySet[RefundApplication]:
    return scope_to_user(
        RefundApplication.objects.select_related("taxpayer", "branch", "assigned_to"), user=user
    )


def application_get_for_user(*, user, pk: int) -> RefundApplication:
    return get_for_user_or_404(
        RefundApplication.objects.select_related("taxpayer", "branch", "assigned_to", "confirmed_by", "approved_by"),
        user=user,
        pk=pk,
    )
