"""What the ledger does when taxpayers tells it data changed."""

from django.dispatch import receiver

from taxpayers.models import ImportJob
from taxpayers.signals import import_applied


@receiver(import_applied, dispatch_uid="ledger_check_credit_reduction_after_import")
def check_credit_reduction_after_import(sender, *, kind: str, **kwargs) -> None:
    """留抵核减: new returns may be the ones that must show the refunds paid in their period."""
    if kind == ImportJob.Kind.RETURNS:
        from .services import ledger_check_credit_reduction

        ledger_check_credit_reduction()
