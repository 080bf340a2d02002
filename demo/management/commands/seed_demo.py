"""``python manage.py seed_demo``: load the demo county (``demo/county/``) into the database (``demo/seeding.py``).

Refuses to touch a database that already has taxpayers, unless ``--if-empty`` (skip, for ``make demo``) or
``--replace`` (delete the demo county's taxpayers first).
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from demo import county
from demo.options import add_today_argument
from demo.seeding import delete_demo_data, demo_data_exists, seed_demo_county
from taxpayers.bulk import CHUNK_TAXPAYERS, LOADERS
from taxpayers.models import Taxpayer


class Command(BaseCommand):
    help = "生成示范县演示数据（确定性：同一 --seed 生成同样的数据）：纳税人、增值税申报、涉税记录和各岗位演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--taxpayers", type=int, default=3000, help="一般纳税人户数（默认 3000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")
        add_today_argument(parser)
        parser.add_argument("--branches", type=int, default=5, help="税务分局个数（默认 5）")
        parser.add_argument("--if-empty", action="store_true", help="已有数据时跳过（make demo 用）")
        parser.add_argument("--replace", action="store_true", help="先删除示范县演示纳税人，再重新生成")
        parser.add_argument(
            "--method", choices=["auto", *LOADERS], default="auto", help="导入方式（默认 PostgreSQL 用 COPY）"
        )

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        if today < dt.date(2019, 5, 1):
            raise CommandError("--today 应晚于 2019-04（申报数据从 2019-03 所属期开始）。")
        if options["taxpayers"] < 1:
            raise CommandError("--taxpayers 应为正整数。")
        if not 1 <= options["branches"] <= county.MAX_BRANCHES:
            raise CommandError(f"--branches 应在 1 到 {county.MAX_BRANCHES} 之间。")
        replace = self._replace(options)
        if replace is None:
            return
        params = county.DemoParams(
            taxpayers=options["taxpayers"], seed=options["seed"], today=today, branches=options["branches"]
        )
        method = None if options["method"] == "auto" else options["method"]
        try:
            with transaction.atomic():  # a failed reseed leaves the old demo data in place
                if replace:
                    deleted = delete_demo_data()
                    self.stdout.write(f"已删除示范县演示数据（{deleted:,} 行）。")
                result = seed_demo_county(params, method=method, progress=self._progress(params.taxpayers))
        except ApplicationError as exc:
            if exc.code == "taxpayers_referenced":
                raise CommandError("演示纳税人已被其他业务数据引用，无法替换；请换用新的数据库后重新生成。") from exc
            raise CommandError(exc.message) from exc
        label = {"copy": "COPY", "executemany": "批量 INSERT"}.get(result.method, result.method)
        self.stdout.write(
            self.style.SUCCESS(
                f"示范县演示数据已生成：纳税人 {result.taxpayers:,} 户，增值税申报 {result.returns:,} 条，"
                f"涉税记录 {result.compliance_records:,} 条，纳税信用评价结果 {result.ratings:,} 条，"
                f"发票汇总 {result.invoice_summaries:,} 条，供应商进项明细 {result.supplier_rows:,} 条，"
                f"演示账号 {result.users} 个"
                f"（seed={params.seed}，所属期 2019-03 至 {county.last_period(today)}，"
                f"{label} 导入，用时 {result.seconds:.1f} 秒）。"
            )
        )

    def _replace(self, options) -> bool | None:
        """Whether to delete the demo county first; None: skip (``--if-empty`` on a database with taxpayers)."""
        if not demo_data_exists():
            return False
        count = Taxpayer.objects.count()
        if options["if_empty"]:
            self.stdout.write(f"数据库中已有纳税人数据（{count:,} 户），跳过生成演示数据。")
            return None
        if not options["replace"]:
            raise CommandError(
                f"数据库中已有纳税人数据（{count:,} 户），未生成演示数据。"
                "要跳过请加 --if-empty；要删除示范县演示数据后重新生成请加 --replace。"
            )
        return True

    def _progress(self, total: int):
        step = max(total // 10, CHUNK_TAXPAYERS)

        def progress(done: int) -> None:
            if total >= 20 * CHUNK_TAXPAYERS and (done % step < CHUNK_TAXPAYERS or done == total):
                self.stdout.write(f"  已生成 {done:,}/{total:,} 户")

        return progress
