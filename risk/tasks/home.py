"""The risk officer's 工作台 block "风险任务" (registered with ``accounts.home_blocks``): the tasks by stage and the
overdue ones, each count a link to the list filtered in the URL; within the user's scope, so a branch officer sees
the counts of its own branch's tasks."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from ..models import OPEN_STAGES, TaskStage
from .selectors import task_counts
from .views import VIEW


def _url(**query) -> str:
    return f"{reverse('risk:tasks')}?{urlencode(query)}" if query else reverse("risk:tasks")


def home_block(request) -> dict | None:
    """The block's context, or None for a user who may not see risk tasks."""
    user = request.user
    if not user.has_perm(VIEW):
        return None
    by_stage, overdue = task_counts(user=user, today=timezone.localdate())
    return {
        "template": "risk/tasks/_home_block.html",
        "stages": [
            {"value": value, "label": label, "count": by_stage.get(value, 0), "url": _url(stage=value)}
            for value, label in TaskStage.choices
        ],
        "open": sum(by_stage.get(stage, 0) for stage in OPEN_STAGES),
        "open_url": _url(stage="open"),
        "overdue": overdue,
        "overdue_url": _url(stage="open", overdue=1),
        "total": sum(by_stage.values()),
        "list_url": _url(),
    }
