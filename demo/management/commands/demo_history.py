"""``python manage.py demo_history``: the demo county's refund history since 2022-01 (``demo/history/``).

``make demo`` runs it after ``seed_demo``. It writes nothing when any refund application exists, so a
second run (or a run on a database with real applications) adds nothing.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ApplicationError
from demo.history import build_demo_history, record_part_payment
from demo.options import add_today_argument
from ledger.statistics import format_working_days
from refund.models import RefundApplication
from taxpayers.calendar import CalendarUnavailable


class Command(BaseCommand):
    help = "为示范县生成 2022 年以来的留抵退税演示历史：申请、流转、退库、台账和辅导记录（已有申请时跳过）。"

    def add_arguments(self, parser):
        add_today_argument(parser)
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        now = timezone.now()
        if options["today"] and today != timezone.localdate():
            now = min(now, dt.datetime.combine(today, dt.time(0, 0), timezone.get_current_timezone()))
        try:
            result = build_demo_history(today=today, seed=options["seed"], now=now)
        except CalendarUnavailable as exc:
            raise CommandError(str(exc)) from exc
        except ApplicationError as exc:  # a bulk path refused a row of the history: nothing was written
            raise CommandError(exc.message) from exc
        except ValueError as exc:
            raise CommandError("尚无税政一股演示账号：请先运行 python manage.py seed_demo。") from exc
        if result is None:
            count = RefundApplication.objects.count()
            self.stdout.write(f"数据库中已有留抵退税申请（{count:,} 件），跳过生成演示历史。")
            return
        if not result.applications:
            self.stdout.write("没有示范县演示纳税人（或其申报未显示退税），未生成演示历史。")
            return
        states = "，".join(
            f"{RefundApplication.State(state).label} {count:,}" for state, count in sorted(result.by_state.items())
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"演示历史已生成：留抵退税申请 {result.applications:,} 件（{states}），"
                f"流转记录 {result.transitions:,} 条，风险疑点 {result.risk_hits:,} 条，"
                f"辅导记录 {result.coachings:,} 条，退库 {result.payments:,} 笔"
                f"（合计 {result.paid_total:,} 元），台账登记 {result.runs:,} 天；"
                f"规则未通过而未生成申请的历史退税 {result.skipped_refunds:,} 笔；用时 {result.seconds:.1f} 秒。"
            )
        )
        self.stdout.write(f"中位办理时长：{format_working_days(result.median_days)} 个工作日")
        part = record_part_payment(today=today)
        if part is not None:
            app = part.application
            self.stdout.write(
                f"部分退库演示：{part.name} 已退库 {part.amount:,} 元，"
                f"尚余 {app.unpaid_amount:,} 元待退库（见“待退库”）。"
            )
