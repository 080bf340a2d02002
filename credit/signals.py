"""Signals credit sends to the apps above it (refund re-screens a taxpayer whose rating changed, 应退尽退, and
lists the taxpayers a new ratings file leaves short of a refund only by their rating).

Credit never imports those apps: they connect their receivers in their ``AppConfig.ready()``.
"""

from django.dispatch import Signal

rating_changed = Signal()
"""A new rating row took effect: sent after commit with ``taxpayer_id``, ``level`` and ``effective_on``."""

ratings_imported = Signal()
"""A ratings file was applied (any rating may have changed): sent after commit with ``import_id``."""
