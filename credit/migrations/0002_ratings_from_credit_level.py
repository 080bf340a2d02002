"""Keeps today's single 纳税信用级别 of each taxpayer as a rating of the history, so nothing is lost when the
field becomes a read of the latest rating.

The year is the taxpayer's 信用评价年度 when given, else the calendar year before the row was last updated; it
counts as reached by the annual evaluation, under the rating system of its year. The registry held one level
without a date and every screening and application read it whatever its date, so the moved rating is in force
from the start of the rating system (``IN_FORCE_FROM``, 公告2014年第40号 in force from 2014-10-01) until a dated
rating supersedes it: nothing screened again, for any application date, changes by the move. (An effective
date of 1 April of the year after would leave every earlier date unrated.) Running it again adds nothing
(one rating per taxpayer, year and day).
"""

import datetime as dt

from django.db import migrations

NOTE = "由纳税人登记信息中的纳税信用级别转入"
IN_FORCE_FROM = dt.date(2014, 10, 1)


def ratings_from_credit_level(apps, schema_editor):
    taxpayer_model = apps.get_model("taxpayers", "Taxpayer")
    rating_model = apps.get_model("credit", "CreditRating")
    rows = taxpayer_model.objects.exclude(credit_level="").values_list("id", "credit_level", "credit_year", "updated_at")
    batch = []
    for taxpayer_id, level, year, updated_at in rows.iterator(chunk_size=2000):
        year = year or max(updated_at.year - 1, 2014)
        batch.append(
            rating_model(
                taxpayer_id=taxpayer_id,
                year=year,
                level=level,
                score=None,
                evaluated_on=IN_FORCE_FROM,
                basis="evaluated",
                rule_set="2025" if year >= 2025 else "2014",
                note=NOTE,
            )
        )
        if len(batch) >= 2000:
            rating_model.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        rating_model.objects.bulk_create(batch, ignore_conflicts=True)


def forget_moved_ratings(apps, schema_editor):
    apps.get_model("credit", "CreditRating").objects.filter(note=NOTE, source_import__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0001_initial"),
    ]

    operations = [migrations.RunPython(ratings_from_credit_level, forget_moved_ratings)]
