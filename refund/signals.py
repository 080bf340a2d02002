"""What refund does when taxpayers tells it data changed."""

from django.dispatch import receiver

from taxpayers.models import ImportJob
from taxpayers.signals import import_applied

from .aggregates import refresh_stale_aggregates


@receiver(import_applied, dispatch_uid="refund_refresh_aggregates_after_import")
def refresh_after_import(sender, *, kind: str, **kwargs) -> None:
    """New or changed returns: bring the yearly input-tax sums up to date (only the taxpayers touched)."""
    if kind == ImportJob.Kind.RETURNS:
        refresh_stale_aggregates()
