"""Bulk writes of rows that happened in the past: a backfill keeps the rows' own timestamps.

``auto_now`` / ``auto_now_add`` fields are set to the current time on every insert, by ``bulk_create`` too. A
history brought in whole (records moved from another system, the demo's past years) must keep the times it
happened at, so its rows are inserted and then their timestamps are set to the given values. Nothing global is
switched off: other writers in the same process keep their ``auto_now``.
"""

from __future__ import annotations

from django.db import connection, models


def bulk_set(model: type[models.Model], objs: list, field_names: list[str]) -> None:
    """Write the objects' current values of ``field_names`` to their rows: one ``UPDATE … WHERE pk = %s`` run
    for all of them with the driver's ``executemany``.

    ``bulk_update`` builds a CASE expression per field and batch, which costs seconds per thousand rows; values
    here are prepared as Django prepares them for a save. Nothing else happens (no signals, no ``auto_now``).
    """
    if not objs:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name  # names come from the model, values go as parameters
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608
    rows = [[*(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields), obj.pk] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _stamped_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]


def bulk_create_as_recorded(model: type[models.Model], objs: list, *, batch_size: int = 500) -> list:
    """``bulk_create`` ``objs`` keeping the values they carry in ``model``'s timestamp fields (None: the current
    time). Needs the database to return the new ids (PostgreSQL, SQLite 3.35+)."""
    fields = _stamped_fields(model)
    given = [[getattr(obj, f.attname) for f in fields] for obj in objs]
    created = model.objects.bulk_create(objs, batch_size=batch_size)
    if fields and created:
        for obj, values in zip(created, given, strict=True):
            for f, value in zip(fields, values, strict=True):
                if value is not None:
                    setattr(obj, f.attname, value)
        bulk_set(model, created, [f.name for f in fields])
    return created
