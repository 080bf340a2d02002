"""The one lock the writes of credit data share: the file imports, the backfill of past events and the derivation of
late returns all upsert dishonesty events and ratings on their natural keys, so two of them must never interleave.

A PostgreSQL transaction-level advisory lock (released at commit or rollback); SQLite, the embedded demo's
database, already lets one writer at a time.
"""

from django.db import connection

CREDIT_LOCK_ID = 7_310_452_015  # any id of our own; taxpayers' imports use another


def credit_data_lock() -> None:
    """Wait for, then hold until the end of the current transaction, the credit data lock (inside an atomic block)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CREDIT_LOCK_ID])
