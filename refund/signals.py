"""What refund does when taxpayers or credit tell it data changed."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from credit.signals import rating_changed, ratings_imported
from taxpayers.models import ImportJob, VatReturn
from taxpayers.signals import import_applied

from .screening.return_states import rebuild_return_states, refresh_stale_aggregates


@receiver(import_applied, dispatch_uid="refund_refresh_aggregates_after_import")
def refresh_after_import(sender, *, kind: str, **kwargs) -> None:
    """New or changed returns: bring the return states up to date (only the taxpayers touched)."""
    if kind == ImportJob.Kind.RETURNS:
        refresh_stale_aggregates()


@receiver(import_applied, dispatch_uid="refund_rescreen_after_import")
def rescreen_after_import(sender, **kwargs) -> None:
    """Any import may change a taxpayer's decision: re-screen those taxpayers in this month's run (a worker)."""
    from .tasks import rescreen_changed

    rescreen_changed.delay()


@receiver(post_delete, sender=VatReturn, dispatch_uid="refund_rebuild_states_after_return_deleted")
def rebuild_after_return_deleted(sender, *, instance: VatReturn, **kwargs) -> None:
    """A deleted return leaves no ``updated_at`` behind, so its taxpayer is rebuilt from that month.

    After commit: when the whole taxpayer is being deleted, its states go with it and the rebuild
    then finds nothing to write.
    """
    changed = {instance.taxpayer_id: instance.period}
    transaction.on_commit(lambda: rebuild_return_states(changed=changed))


@receiver(import_applied, dispatch_uid="refund_candidate_items_declared_after_import")
def candidate_items_declared_after_import(sender, *, kind: str, **kwargs) -> None:
    """候选名单 funnel: a returns import may bring the return a candidate had to file (已申报)."""
    if kind == ImportJob.Kind.RETURNS:
        from .candidates.services import candidate_items_mark_declared

        candidate_items_mark_declared()


# --- credit tells refund (both directions of the loop between the rating and the refund) ----------------------

RESCREEN_LEVELS = ("A", "B")
"""Only an A or B rating can make a taxpayer eligible (纳税信用级别为A级或B级)."""


@receiver(rating_changed, dispatch_uid="refund_rescreen_after_rating")
def rescreen_after_rating(sender, *, taxpayer_id: int, level: str, effective_on, **kwargs) -> None:
    """A repair, 复核 or 复评 brought the taxpayer to A or B: a worker screens it again at once (应退尽退)."""
    if level not in RESCREEN_LEVELS:
        return
    from .tasks import rescreen_after_rating as task

    transaction.on_commit(lambda: task.delay(taxpayer_id, level, effective_on.isoformat()), robust=True)


@receiver(ratings_imported, dispatch_uid="refund_repair_notices_after_ratings_import")
def repair_notices_after_ratings_import(sender, **kwargs) -> None:
    """New ratings: a worker lists the latest screening's taxpayers that fail only on their rating."""
    from .tasks import list_repair_notices

    transaction.on_commit(list_repair_notices.delay, robust=True)
