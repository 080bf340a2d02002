"""What a consultation tells the rest of the product. ``consultation_decided`` is sent inside the deciding
transaction (kwargs ``consultation`` and ``decision``), so a receiver's writes commit or roll back with it."""

from django.dispatch import Signal

consultation_decided = Signal()
