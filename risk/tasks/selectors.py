"""Reads of the risk tasks, always through the scoping gateway: a branch officer sees the tasks pushed down to its
own branch and nothing else (another branch's task is a 404); the risk section and 局领导 see every task."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Branch, User
from accounts.roles import RoleCode
from accounts.scoping import get_for_user_or_404, scope_to_user
from refund.models import RefundApplication

from ..models import DUE_STAGES, OPEN_STAGES, RiskHit, RiskTask, RiskTaskFile, RiskTaskImport, TaskSource, TaskStage

OPEN = "open"
MINE = "me"


def _scoped(user) -> QuerySet[RiskTask]:
    return scope_to_user(RiskTask.objects.all(), user=user, branch_field="branch")


def tasks_for_user(*, user, filters: Mapping | None = None, today: dt.date) -> QuerySet[RiskTask]:
    """The tasks ``user`` may see, the nearest due first (no due date last); filters from the URL: ``stage``
    (a stage, or ``open``), ``source``, ``assignee`` (a user's id, or ``me``), ``branch`` and ``overdue=1``."""
    tasks = _scoped(user).select_related("taxpayer", "taxpayer__branch", "assignee", "branch", "application")
    filters = filters or {}
    stage = filters.get("stage")
    if stage in TaskStage.values:
        tasks = tasks.filter(stage=stage)
    elif stage == OPEN:
        tasks = tasks.filter(stage__in=OPEN_STAGES)
    if filters.get("source") in TaskSource.values:
        tasks = tasks.filter(source=filters["source"])
    assignee = str(filters.get("assignee") or "")
    if assignee == MINE:
        tasks = tasks.filter(assignee_id=user.pk)
    elif assignee.isdigit():
        tasks = tasks.filter(assignee_id=int(assignee))
    branch = str(filters.get("branch") or "")
    if branch.isdigit():
        tasks = tasks.filter(branch_id=int(branch))
    if filters.get("overdue") == "1":
        tasks = tasks.filter(stage__in=DUE_STAGES, due_on__lt=today)
    return tasks.order_by("due_on", "-created_at", "id")


def task_for_user(*, user, pk: int) -> RiskTask:
    """One task; ``Http404`` outside the user's scope."""
    queryset = RiskTask.objects.select_related(
        "taxpayer",
        "taxpayer__branch",
        "assignee",
        "branch",
        "application",
        "created_by",
        "responded_by",
        "outcome_by",
        "upload",
    )
    return get_for_user_or_404(queryset, user=user, branch_field="branch", pk=pk)


def tasks_by_ids_for_user(*, user, ids) -> list[RiskTask]:
    """The tasks of a batch action the user may see (others are silently absent)."""
    return list(_scoped(user).filter(pk__in=ids).select_related("taxpayer", "taxpayer__branch").order_by("id"))


def task_stages(task: RiskTask) -> list:
    return list(task.stages.select_related("actor").order_by("at", "id"))


def task_files(task: RiskTask) -> list[RiskTaskFile]:
    return list(task.files.select_related("uploaded_by").order_by("uploaded_at", "id"))


def task_file_for_user(*, user, task_pk: int, pk: int) -> RiskTaskFile:
    task = task_for_user(user=user, pk=task_pk)
    return get_object_or_404(RiskTaskFile.objects.select_related("task"), task=task, pk=pk)


def task_transfer(task: RiskTask):
    return getattr(task, "transfer", None) if task.outcome == "transferred" else None


def task_counts(*, user, today: dt.date) -> tuple[dict[str, int], int]:
    """The 工作台's counts within the user's scope: stage → tasks, and the overdue ones. Two statements."""
    tasks = _scoped(user)
    by_stage = dict(tasks.order_by().values_list("stage").annotate(n=Count("pk")))
    overdue = tasks.filter(stage__in=DUE_STAGES, due_on__lt=today).count()
    return by_stage, overdue


def risk_officers() -> list[User]:
    """Who a task may be assigned to: the active officers of the risk section."""
    return list(
        User.objects.filter(is_active=True, groups__name=RoleCode.RISK_OFFICER.value)
        .distinct()
        .order_by("full_name", "username")
    )


def branches() -> list[Branch]:
    return list(Branch.objects.filter(kind=Branch.Kind.BRANCH).order_by("sort_order", "code"))


def hit_for_task(pk: int) -> RiskHit:
    """A scan's hit to build a task from (the risk section sees every branch's hits)."""
    return get_object_or_404(RiskHit.objects.select_related("taxpayer", "taxpayer__branch", "scan"), pk=pk)


def application_for_task(*, user, pk: int) -> RefundApplication:
    queryset = RefundApplication.objects.select_related("taxpayer", "taxpayer__branch")
    return get_for_user_or_404(queryset, user=user, pk=pk)


def application_tasks(application_id: int, *, user) -> list[RiskTask]:
    """The tasks about one application that ``user`` may see (none without a user), the latest first."""
    if user is None or not user.has_perm("risk.view_risktask"):
        return []
    return list(
        _scoped(user)
        .filter(application_id=application_id)
        .select_related("assignee", "branch")
        .order_by("-created_at", "-id")
    )


def open_task_of_hits(hit_ids) -> dict[int, int]:
    """hit id → its open task's id, for the hits that have one."""
    rows = RiskTask.objects.filter(hit_id__in=list(hit_ids)).filter(~Q(stage=TaskStage.CLOSED))
    return dict(rows.values_list("hit_id", "pk"))


def imports() -> list[RiskTaskImport]:
    return list(RiskTaskImport.objects.select_related("created_by").order_by("-created_at", "-id")[:50])


def taxpayer_by_identifier(*, user, identifier: str):
    """The registered taxpayer with ``identifier`` within the user's scope, or None."""
    from taxpayers.models import Taxpayer

    return (
        scope_to_user(Taxpayer.objects.select_related("branch"), user=user)
        .filter(identifier=identifier.strip().upper())
        .first()
    )


def application_evidence(application_id: int) -> dict:
    """The evidence a task from an application's risk panel keeps: the latest scan's grade and each hit in words."""
    from ..selectors import application_risk_panel

    panel = application_risk_panel(application_id)
    latest = panel["latest"]
    lines = [["风险等级", latest.get_grade_display()]] if latest is not None else []
    for hit in panel["hits"]:
        figures = "；".join(f"{label}：{value}" for label, value in hit["evidence"])
        lines.append([f"{hit['title']}（{hit['severity']}）", figures or "—"])
    return {"lines": lines, "grade": latest.grade if latest is not None else ""}
