"""Model fields of the kernel: ``PeriodField``, a month kept as ``YYYY-MM`` text and read as a ``Period``."""

import contextlib
import functools

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from .periods import PERIOD_RE, Period, PeriodError


@functools.lru_cache(maxsize=4096)
def _stored(text: str) -> Period:
    """A stored period (every row of a period shares the one text, so a screening parses each once)."""
    return Period.parse(text)


class _PeriodAttribute(DeferredAttribute):
    """Text assigned to the field (a service's ``application_period="2026-03"``, a factory's keyword) reads back
    as a ``Period``, as a loaded row does. Text that is not a period is kept for ``full_clean`` to refuse."""

    def __set__(self, instance, value):
        if isinstance(value, str) and value:
            with contextlib.suppress(ValueError):
                value = _stored(value)
        instance.__dict__[self.field.attname] = value


class PeriodField(models.CharField):
    """A month (``core.periods.Period``) in a ``varchar(7)`` column holding ``YYYY-MM``.

    The text sorts as time does, so ordering, ranges and ``__startswith="2026"`` work on the column as on any
    text. Lookups and writes take a ``Period`` or its text (text passes unchanged, as to a ``CharField``); rows,
    ``values()`` and ``values_list()`` give ``Period`` objects. A blank period (``blank=True``) stays ``""``, as
    Django keeps blank text.
    """

    description = "月份（YYYY-MM）"
    descriptor_class = _PeriodAttribute

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 7
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"]
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return _stored(value) if value else value

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, Period):
            return value
        try:
            return Period.typed(value)
        except PeriodError as exc:
            raise ValidationError(str(exc), code="invalid_period") from None

    def run_validators(self, value):
        super().run_validators(value if value is None else str(value))  # CharField's length check takes text

    def get_prep_value(self, value):
        value = models.Field.get_prep_value(self, value)  # a lazy string resolved
        return value if value is None else str(value)


def period_format_check(field: str, *, name: str) -> models.CheckConstraint:
    """The database's own check that the ``field`` column holds ``YYYY-MM`` (``PERIOD_RE``)."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__regex": PERIOD_RE.pattern}), name=name)
