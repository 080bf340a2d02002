"""``python manage.py push_date_run [--date YYYY-MM-DD]``: one push date end to end.

Screens the application period if no fresh run exists (started on the push date's eve or later), builds the
lists of every branch and of the service section, sends the in-app notifications and the SMS reminders.
Running it again changes nothing: the lists exist, the notifications are claimed, every reminder has its key.
Without ``--date`` it runs the latest push date on or before today. Exit 2 when the date is no push date or the
calendar has no data for it.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ApplicationError
from core.periods import Period, format_period_cn
from refund.candidates.push_dates import latest_push_date
from refund.candidates.routine import push_date_run

EXIT_UNUSABLE = 2


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date “{value}” 不是有效日期，应为 YYYY-MM-DD。", returncode=EXIT_UNUSABLE) from None


class Command(BaseCommand):
    help = "运行一个推送日的全部步骤：必要时筛查、生成候选名单、站内通知、发送提醒短信；重复运行不会产生任何变化。"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--date", type=_date, default=None, help="推送日期 YYYY-MM-DD（默认：今天或之前最近的推送日）"
        )
        parser.add_argument("--no-remind", action="store_true", help="不发送提醒短信（只筛查、生成名单和站内通知）")

    def handle(self, *args, **options) -> None:
        try:
            push_date = options["date"] or latest_push_date(timezone.localdate())
            self.stdout.write(
                f"推送日 {push_date.isoformat()}（申请所属期 {format_period_cn(Period.of(push_date))}）"
            )
            outcome = push_date_run(actor=None, push_date=push_date, remind=not options["no_remind"])
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=EXIT_UNUSABLE) from None
        screening = f"筛查 #{outcome.run_id}" + ("（本次执行）" if outcome.screened else "（沿用已完成的筛查）")
        lists = f"名单 {outcome.lists} 份" + ("（本次生成）" if outcome.lists_created else "（此前已生成，未更改）")
        self.stdout.write(f"{screening}；{lists}；候选 {outcome.items} 户")
        self.stdout.write(f"站内通知 {outcome.notifications} 条")
        if outcome.reminders is None:
            self.stdout.write("提醒短信：未发送（--no-remind）")
        else:
            reminders = outcome.reminders
            self.stdout.write(
                f"提醒短信 {reminders.enqueued} 条进入发件箱；无法发送 {reminders.unreachable} 户；"
                f"已提醒或已办结 {reminders.skipped} 户"
            )
