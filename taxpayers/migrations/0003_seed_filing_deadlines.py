"""Seeds the published national filing deadlines for 2022 and 2023 from taxpayers/data/filing_deadlines.json.

Idempotent: a month already stored (possibly edited by an administrator) is left as it is.
"""

import json
from datetime import date
from pathlib import Path

from django.db import migrations

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "filing_deadlines.json"


def seed(apps, schema_editor):
    FilingDeadline = apps.get_model("taxpayers", "FilingDeadline")
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    for year, months in data["tables"].items():
        for month, deadline in months.items():
            FilingDeadline.objects.get_or_create(
                year=int(year),
                month=int(month),
                region="",
                defaults={"deadline": date.fromisoformat(deadline), "source_document": data["sources"][year]},
            )


class Migration(migrations.Migration):
    dependencies = [("taxpayers", "0002_filingdeadline")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
