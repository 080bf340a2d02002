from functools import partial

from django.db import models

# Money is Decimal yuan with two places, never float.
MoneyField = partial(models.DecimalField, max_digits=16, decimal_places=2)
