"""A fingerprint of the whole database: what ``make demo`` must build the same way every time.

Why: the demo county is generated, and its generators are reshaped from time to time; the county they
produce must not move (not a taxpayer, not a cent). The fingerprint says what the county is without the
accidents of one run: row ids (foreign keys are replaced by the target's natural key — identifier,
username, branch code, voucher number …), timestamps taken at seeding time (every timestamp from
``seeded_after`` on is shown as ``<seeded>``), password hashes (salted) and the audit trail's ids.

For every table: the row count, the sum of every money column, the count of every value of every
choice column, and a hash of all its rows sorted; ``rows`` gives those rows, to find what differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from django.apps import apps
from django.db import models

# Tables of the framework that the demo does not write, or writes differently on every run by design.
SKIPPED_MODELS = frozenset(
    {
        "admin.LogEntry",
        "auth.Permission",
        "contenttypes.ContentType",
        "sessions.Session",
        "authtoken.Token",
        "axes.AccessAttempt",
        "axes.AccessLog",
        "axes.AccessFailureLog",
    }
)
# Values that differ on every run: salted hashes, and the audit trail's references by row id.
SKIPPED_FIELDS = frozenset(
    {
        "accounts.User.password",
        "accounts.User.last_login",
        "accounts.AuditEvent.object_id",
        "accounts.AuditEvent.changes",
        "accounts.AuditEvent.request_id",
    }
)
SEEDED = "<seeded>"


def _natural_keys() -> dict[str, dict[int, str]]:
    """pk → natural key of the tables others point at (ids may differ between two runs)."""
    keys: dict[str, dict[int, str]] = {}

    def add(label: str, *fields: str) -> None:
        try:
            model = apps.get_model(label)
        except LookupError:
            return
        keys[label] = {row[0]: "/".join(map(str, row[1:])) for row in model.objects.values_list("pk", *fields)}

    add("auth.Group", "name")
    add("accounts.User", "username")
    add("accounts.Branch", "code")
    add("taxpayers.Taxpayer", "identifier")
    add("refund.RefundApplication", "taxpayer__identifier", "application_period", "document_number")
    add("ledger.TreasuryPayment", "voucher_number")
    add("ledger.LedgerRun", "day")
    return keys


def _plain(field: models.Field, value, keys: dict[str, dict[int, str]], seeded_after: dt.datetime):
    if value is None:
        return None
    if field.is_relation:
        label = field.related_model._meta.label
        return keys[label].get(value, f"#{value}") if label in keys else f"#{value}"
    if isinstance(value, dt.datetime):
        return SEEDED if value >= seeded_after else value.isoformat()
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        return str(value.quantize(Decimal(1).scaleb(-places))) if places is not None else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value) if not isinstance(value, (bool, int)) else value


def _models() -> list[type[models.Model]]:
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label in SKIPPED_MODELS or model._meta.proxy or not model._meta.managed:
            continue
        found.append(model)
    return sorted(found, key=lambda m: m._meta.label)


def table_rows(model, keys, seeded_after) -> tuple[list[str], list[tuple]]:
    label = model._meta.label
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f"{label}.{f.name}" not in SKIPPED_FIELDS]
    rows = [
        tuple(_plain(f, value, keys, seeded_after) for f, value in zip(fields, values, strict=True))
        for values in model.objects.values_list(*(f.attname for f in fields)).iterator(chunk_size=5000)
    ]
    rows.sort(key=lambda row: json.dumps(row, ensure_ascii=False, default=str))
    return [f.name for f in fields], rows


def fingerprint(*, seeded_after: dt.datetime, with_rows: bool = False, labels: Iterable[str] | None = None) -> dict:
    """The database's fingerprint (see the module docstring); ``with_rows`` adds every row, sorted; ``labels``
    (``app_label.Model``) keeps to those tables."""
    keys = _natural_keys()
    result = {}
    wanted = set(labels) if labels is not None else None
    for model in _models():
        if wanted is not None and model._meta.label not in wanted:
            continue
        names, rows = table_rows(model, keys, seeded_after)
        fields = {f.name: f for f in model._meta.concrete_fields}
        table = {"count": len(rows)}
        sums = {}
        counts = {}
        for n, name in enumerate(names):
            field = fields[name]
            if isinstance(field, models.DecimalField):
                sums[name] = str(sum((Decimal(row[n]) for row in rows if row[n] is not None), Decimal("0")))
            elif field.choices and not field.is_relation:
                counts[name] = dict(sorted(Counter(str(row[n]) for row in rows).items()))
        if sums:
            table["sums"] = sums
        if counts:
            table["by_value"] = counts
        digest = hashlib.sha256()
        for row in rows:
            digest.update(json.dumps(row, ensure_ascii=False, default=str).encode())
            digest.update(b"\n")
        table["hash"] = digest.hexdigest()
        if with_rows:
            table["columns"] = names
            table["rows"] = rows
        if rows:
            result[model._meta.label] = table
    return result


def differences(before: dict, after: dict) -> list[str]:
    """What differs between two fingerprints, one line each (empty: the same database)."""
    lines = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {"count": 0}), after.get(label, {"count": 0})
        if old["count"] == new["count"] == 0:
            continue
        for key in ("count", "sums", "by_value", "hash"):
            if old.get(key) != new.get(key):
                lines.append(f"{label} {key}: {old.get(key)} → {new.get(key)}")
    return lines
