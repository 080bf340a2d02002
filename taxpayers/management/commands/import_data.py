"""``python manage.py import_data KIND FILE [--user USERNAME]``: the same all-or-nothing import as the web page.

Runs synchronously whatever the file's size, prints the counts or every stored error, and
exits with status 1 when the file is refused.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.request_context import bind_request_id
from core.errors import ApplicationError
from taxpayers.models import ImportJob
from taxpayers.services import import_job_create, import_job_run


class Command(BaseCommand):
    help = "导入纳税人登记信息、增值税申报表、涉税合规记录、发票汇总或供应商进项明细（xlsx 或 csv；全部写入或不写入）。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportJob.Kind.values, help=" | ".join(ImportJob.Kind.values))
        parser.add_argument("file", help="path of the .xlsx or .csv file")
        parser.add_argument("--user", help="username recorded as the importer (default: none)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = None
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"用户不存在：{options['user']}") from exc
        with bind_request_id(), path.open("rb") as handle:
            try:
                job = import_job_create(actor=actor, kind=options["kind"], uploaded_file=File(handle, name=path.name))
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            job = import_job_run(job_id=job.pk)
        if job.status == ImportJob.Status.SUCCEEDED:
            self.stdout.write(
                f"导入成功（任务 #{job.pk}）：共 {job.total_rows} 行，新增 {job.created_count}，"
                f"更新 {job.updated_count}，未变化 {job.unchanged_count}"
            )
            if job.message:
                self.stdout.write(job.message)
            return
        self.stderr.write(f"导入失败（任务 #{job.pk}）：{job.message}")
        for error in job.errors:
            self.stderr.write(
                f"第 {error['row']} 行\t{error['column'] or '-'}\t{error['value'] or '-'}\t{error['reason']}"
            )
        raise CommandError(f"文件未导入，共 {job.error_count} 处错误。", returncode=1)
