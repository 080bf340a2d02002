"""Creates the scheduled jobs of ``config/schedules.py`` that are missing.

Idempotent and safe to run on every start (``make demo``, the web container): an entry
whose ``PeriodicTask`` name already exists is reported as kept and left exactly as an
administrator may have edited it (time, enabled flag, arguments).
"""

from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.schedules import SCHEDULES, ScheduleEntry


def _crontab_for(entry: ScheduleEntry) -> CrontabSchedule:
    fields = {
        "minute": entry.minute,
        "hour": entry.hour,
        "day_of_month": entry.day_of_month,
        "month_of_year": entry.month_of_year,
        "day_of_week": entry.day_of_week,
        "timezone": entry.timezone,
    }
    # Not get_or_create: the admin may already hold duplicates of the same crontab.
    existing = CrontabSchedule.objects.filter(**fields).order_by("pk").first()
    return existing or CrontabSchedule.objects.create(**fields)


def ensure_schedule(entry: ScheduleEntry) -> bool:
    """Create ``entry`` unless a task of that name exists; True when it was created."""
    if PeriodicTask.objects.filter(name=entry.name).exists():
        return False
    try:
        with transaction.atomic():
            PeriodicTask.objects.create(
                name=entry.name,
                task=entry.task,
                crontab=_crontab_for(entry),
                description=entry.description,
                expire_seconds=entry.expire_seconds,
                enabled=True,
            )
    except IntegrityError:
        # Another process (a second web container starting) created it first.
        return False
    return True


class Command(BaseCommand):
    help = "创建 config/schedules.py 中缺少的定时任务；已存在的（可能已被管理员修改）保持不变。"

    def handle(self, *args, **options):
        created = kept = 0
        for entry in SCHEDULES:
            if ensure_schedule(entry):
                created += 1
                self.stdout.write(f"created {entry.name} -> {entry.task}")
            else:
                kept += 1
                self.stdout.write(f"kept {entry.name} (exists; not overwritten)")
        self.stdout.write(f"schedules: {created} created, {kept} kept")
