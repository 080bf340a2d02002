"""What notify's pages need to know about branches, given to notify by settings (notify imports only core).

``settings.NOTIFY_VISIBLE_BRANCHES`` points at ``accounts.scoping.visible_branch_ids`` (the gateway itself);
``settings.NOTIFY_BRANCH_CHOICES`` at ``branch_choices`` below.
"""

from .models import Branch
from .scoping import visible_branch_ids


def branch_choices(user) -> list[tuple[int, str]]:
    """The branches (分局) ``user`` may see, as (id, name) for notify's branch filter and labels."""
    branch_ids = visible_branch_ids(user)
    branches = Branch.objects.filter(kind=Branch.Kind.BRANCH)
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    return list(branches.order_by("sort_order", "code").values_list("pk", "name"))
