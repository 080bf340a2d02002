"""The warnings' own receiver of ``credit.signals.rating_changed``: a decision that changed a rating recomputes that
taxpayer's prediction at once, so the 工作台's 现行 and predicted counts do not wait for the next morning.

A failure is logged and left to the daily job, which recomputes every prediction: the decision stands either way.
"""

import logging

from django.dispatch import receiver

from ..signals import rating_changed
from .services import credit_prediction_refresh

logger = logging.getLogger(__name__)


@receiver(rating_changed, dispatch_uid="credit_prediction_after_rating")
def refresh_prediction_after_rating(sender, *, taxpayer_id: int, **kwargs) -> None:
    try:
        credit_prediction_refresh(taxpayer_id=taxpayer_id)
    except Exception:
        logger.exception("credit_prediction_refresh_failed", extra={"taxpayer_id": taxpayer_id})
