"""上级下发风险任务: the higher bureau's file of tasks imported all or nothing (``upper.read_upper_tasks`` checks
every row first); each row becomes a task at 识别, to be analysed or pushed down to the taxpayer's branch."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import signed_in
from core.errors import FileRejected
from taxpayers.models import Taxpayer

from ..models import RiskTaskImport, TaskSource
from .services import MAX_IMPORT_BYTES, TaskRefused, _require_act, _required, risk_task_create
from .upper import read_upper_tasks


class UpperTasksRejected(FileRejected):
    """The file has errors; ``errors`` lists them (row, column, value, reason), nothing was stored."""

    code = "upper_tasks_invalid"
    message_template = "校验未通过：共 {count} 处错误，未导入任何任务。请按错误明细修改文件后重新导入。"


def risk_tasks_import(*, actor, source_name: str, uploaded_file) -> tuple[RiskTaskImport, bool]:
    """上级下发风险任务: every row of the file becomes a task (source 上级下发, stage 识别), or none does. The same
    file imported again changes nothing: (the earlier import, False)."""
    _require_act(actor, "import")
    source_name = _required(source_name, "下发单位，如“市税务局风险管理局”")
    original = Path(uploaded_file.name or "").name
    size = uploaded_file.size or 0
    if size > MAX_IMPORT_BYTES:
        raise TaskRefused(f"文件超过 {MAX_IMPORT_BYTES // (1024 * 1024)} MB，请拆分后分批导入。", code="file_size")
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    same = RiskTaskImport.objects.filter(sha256=sha256).first()
    if same is not None:
        return same, False
    uploaded_file.seek(0)
    check = read_upper_tasks(uploaded_file, original, today=timezone.localdate())
    if not check.ok:
        raise UpperTasksRejected(check.errors, check.warnings)
    taxpayers = Taxpayer.objects.select_related("branch").in_bulk([row.taxpayer_id for row in check.rows])
    with transaction.atomic():
        upload = RiskTaskImport.objects.create(
            source_name=source_name[:100],
            original_name=original[:255],
            sha256=sha256,
            row_count=len(check.rows),
            created_by=signed_in(actor),
        )
        for row in check.rows:
            risk_task_create(
                actor=actor,
                taxpayer=taxpayers[row.taxpayer_id],
                source=TaskSource.UPPER,
                title=row.title,
                description=row.description,
                due_on=row.due_on,
                source_document=row.document,
                upload=upload,
                evidence={"lines": [["下发单位", source_name], ["来源文号", row.document]]},
            )
        record_event(
            actor=actor,
            verb="risk.task_import",
            target=upload,
            summary=f"导入上级下发风险任务“{original[:100]}”（{source_name}）：{len(check.rows)} 件",
            changes={"rows": len(check.rows), "sha256": sha256},
        )
    return upload, True
