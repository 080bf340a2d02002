"""``python manage.py demo_credit``: the demo county's credit work (``demo/history/credit.py``): events, repair /
复核 / 复评 cases, bank–tax outreach and loans, the day's predictions, and the loop with refund (the push date's
screening, its 信用修复提示, a few taxpayers repaired to B and put on today's 即时名单).

``make demo`` runs it after ``demo_history``. It writes nothing when any case, bank–tax record or imported event
exists, so a second run adds nothing.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ApplicationError
from demo.history.credit import build_demo_credit
from demo.options import add_today_argument


class Command(BaseCommand):
    help = "为示范县生成纳税信用演示数据：失信行为、修复/复核/复评申请、银税互动记录，并计算当日信用预测。"

    def add_arguments(self, parser):
        add_today_argument(parser)
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")

    def handle(self, *args, **options):
        today: dt.date = options["today"] or timezone.localdate()
        try:
            result = build_demo_credit(today=today, seed=options["seed"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except ValueError as exc:
            raise CommandError("尚无纳税服务股或纳税信用岗演示账号：请先运行 python manage.py seed_demo。") from exc
        if result is None:
            self.stdout.write("数据库中已有纳税信用演示数据，跳过生成。")
            return
        states = "，".join(f"{label} {result.cases[key]}" for key, label in _STATES if result.cases.get(key))
        self.stdout.write(
            self.style.SUCCESS(
                f"纳税信用演示数据已生成：专精特新、创新型中小企业 {result.flagged} 户；失信行为 {result.events:,} 条；"
                f"信用申请 {sum(result.cases.values())} 件"
                f"（{states or '无'}）；银税互动宣传 {result.outreach} 户，贷款 {result.loans} 笔；"
                f"电话和上门辅导 {result.contacts} 次；信用预测 {result.predicted:,} 户；用时 {result.seconds:.1f} 秒。"
            )
        )
        loop = result.loop
        if loop.skipped:
            self.stdout.write(f"信用修复提示和即时名单未生成：{loop.skipped}")
        else:
            self.stdout.write(
                f"信用修复提示 {loop.notices} 户；其中 {loop.repaired} 户修复至B级，"
                f"重新筛查后列入即时名单 {loop.adhoc} 户。"
            )


_STATES = (
    ("received", "已受理"),
    ("reviewing", "审核中"),
    ("raised", "已提请上级"),
    ("answered", "上级已答复"),
    ("approved", "准予"),
    ("partly", "部分准予"),
    ("refused", "不予"),
    ("withdrawn", "已撤回"),
)
