"""``manage.py ledger_register [--day YYYY-MM-DD]``: register a day's refunds (default: yesterday) and queue the
bills, as the 08:30 job does. Safe to run again: nothing is registered or billed twice."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ApplicationError
from core.money import format_yuan
from ledger.services import ledger_register_day


class Command(BaseCommand):
    help = "登记某日（默认昨天）的退税台账并发送退税账单短信；可重复运行，不会重复登记或重复发送。"

    def add_arguments(self, parser):
        parser.add_argument("--day", type=dt.date.fromisoformat, help="退库日期 YYYY-MM-DD（默认昨天）")

    def handle(self, *args, day=None, **options):
        day = day or timezone.localdate() - dt.timedelta(days=1)
        try:
            run = ledger_register_day(day=day)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{day.isoformat()}: {run.entry_count} entries, {format_yuan(run.total_amount)} yuan, "
            f"{run.bill_count} bills queued ({run.message})"
        )
