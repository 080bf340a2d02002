"""The funnel of a candidate item (候选名单条目): which stage its facts put it in, in Python and in SQL.

listed → reminded → declared (the return it rests on is on file) → applied → refunded, or closed as declined
(the taxpayer keeps the credit) or ineligible (申请前调查). Pure: the services write the stage these give.
"""

from django.db.models import Case, F, Q, Value, When

from ..models import CandidateItem

Stage = CandidateItem.Stage


# Items whose taxpayer already applied, was refunded, declined or was found ineligible are not pushed again in
# the same application period (unless a higher bureau's list names them).
DONE_STAGES = (Stage.APPLIED, Stage.REFUNDED, Stage.DECLINED, Stage.INELIGIBLE)


def stage_of(item: CandidateItem) -> str:
    """Facts beat intentions: an application or a refund wins over a decline; a decline over the data stages."""
    if item.refunded_at:
        return Stage.REFUNDED
    if item.applied_at:
        return Stage.APPLIED
    if item.closed_as:
        return item.closed_as
    if item.declared_at:
        return Stage.DECLARED
    if item.reminded_at:
        return Stage.REMINDED
    return Stage.LISTED


STAGE_SQL = Case(
    When(refunded_at__isnull=False, then=Value(Stage.REFUNDED)),
    When(applied_at__isnull=False, then=Value(Stage.APPLIED)),
    When(~Q(closed_as=""), then=F("closed_as")),
    When(declared_at__isnull=False, then=Value(Stage.DECLARED)),
    When(reminded_at__isnull=False, then=Value(Stage.REMINDED)),
    default=Value(Stage.LISTED),
)
