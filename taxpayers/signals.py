"""Signals taxpayers sends to the apps above it (dependencies point downwards: taxpayers never imports them)."""

from django.dispatch import Signal

# Sent after an import job's rows were committed. kwargs: kind (ImportJob.Kind), job_id.
# refund listens to refresh its per-taxpayer aggregates.
import_applied = Signal()
