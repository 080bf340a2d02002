"""Every write to a risk task (风险任务): creating it (by hand, from a scan's hit, from an application, by the
higher bureau's import or by the post-refund sample), each move through the six stages, the response with its
evidence files, and the outcome.

Each move locks the task's row (``select_for_update``: a risk officer and a branch officer may act on the same task
at once; the second waits and then sees the stage the first left), checks the stage it starts from and who acts,
and writes the stage row and the audit event in the same transaction. A refusal is a ``TaskRefused`` in Chinese.

    识别 ─analyse→ 分析 ─assign→ 任务 ─respond→ 应对 ─submit→ 反馈 ─outcome→ 监控 ─close→ 已办结
      └──────── push down (下发到分局) ──┘                      └─send back→ 应对
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_event
from accounts.models import Branch, signed_in
from accounts.roles import RoleCode
from core.errors import ApplicationError
from refund.models import RefundApplication
from taxpayers.models import Taxpayer

from ..consultations.services import consultation_open
from ..indicators import INDICATORS
from ..models import (
    Consultation,
    RiskGrade,
    RiskHit,
    RiskTask,
    RiskTaskFile,
    RiskTaskStage,
    Severity,
    TaskSource,
    TaskStage,
)
from ..selectors import application_grade, evidence_lines
from .outcomes import OUTCOMES, OutcomeRequest

ACT = "risk.act_risktask"
RESPOND = "risk.respond_risktask"
TITLE_MAX = 200

ACTION_LABELS = {
    "create": "建立任务",
    "analyse": "开始分析",
    "assign": "派发任务",
    "push_down": "下发到分局",
    "respond": "登记应对情况",
    "submit": "提交反馈",
    "send_back": "退回补充",
    "outcome": "作出处理",
    "consult": "提请集体会商",
    "close": "办结",
    "import": "导入上级下发风险任务",
}

ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "consult": (TaskStage.FEEDBACK,),
    "analyse": (TaskStage.IDENTIFIED,),
    "assign": (TaskStage.ANALYSING, TaskStage.ASSIGNED),
    "push_down": (TaskStage.IDENTIFIED, TaskStage.ANALYSING),
    "respond": (TaskStage.ASSIGNED, TaskStage.RESPONDING),
    "submit": (TaskStage.RESPONDING,),
    "send_back": (TaskStage.FEEDBACK,),
    "outcome": (TaskStage.FEEDBACK,),
    "close": (TaskStage.MONITORING,),
}

# 应对材料: what the bureau's officers attach (scans, photos, office documents, OFD e-documents), and how large.
MAX_FILE_BYTES = 20 * 1024 * 1024
FILE_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".ofd": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
}
"""Extension → the first bytes a genuine file of that type starts with (a renamed file is refused)."""


MAX_IMPORT_BYTES = 10 * 1024 * 1024


class TaskRefused(ApplicationError):
    """The task is not in a stage the action may start from, or the actor may not take it."""

    code = "risk_task_refused"


def _stage_label(stage: str) -> str:
    return TaskStage(stage).label if stage in TaskStage.values else stage


def _who(user) -> str:
    return (getattr(user, "full_name", "") or getattr(user, "username", "")) if user else "系统"


def _require_act(actor, action: str) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.has_perm(ACT)):
        raise TaskRefused(f"只有风险管理股的人员可以{ACTION_LABELS[action]}。", code="not_allowed")


def _require_responder(actor, task: RiskTask, action: str) -> None:
    """应对 is the assignee's, or the assigned branch's: no one else may answer for them."""
    if not getattr(actor, "is_authenticated", False):
        raise TaskRefused(f"请登录后再{ACTION_LABELS[action]}。", code="not_allowed")
    if task.assignee_id:
        if actor.pk != task.assignee_id:
            raise TaskRefused(
                f"该任务由 {_who(task.assignee)} 承办，只有承办人可以{ACTION_LABELS[action]}。", code="not_allowed"
            )
    elif task.branch_id:
        if not (actor.has_perm(RESPOND) and actor.branch_id == task.branch_id):
            raise TaskRefused(
                f"该任务已下发{task.branch.name}，只有该分局的人员可以{ACTION_LABELS[action]}。", code="not_allowed"
            )
    else:
        raise TaskRefused("该任务尚未派发，不能应对。", code="not_assigned")


def _lock(task: RiskTask, action: str) -> RiskTask:
    locked = (
        RiskTask.objects.select_for_update(of=("self",))
        .select_related("taxpayer", "taxpayer__branch", "assignee", "branch", "application")
        .get(pk=task.pk)
    )
    allowed = ALLOWED_FROM[action]
    if locked.stage not in allowed:
        allowed_text = "、".join(f"“{_stage_label(s)}”" for s in allowed)
        raise TaskRefused(
            f"只有处于{allowed_text}阶段的任务可以{ACTION_LABELS[action]}，该任务当前处于“{_stage_label(locked.stage)}”阶段。"
            "请刷新页面后查看。",
            code="stage",
        )
    return locked


def _move(*, task: RiskTask, action: str, actor, to_stage: str, note: str = "", changes: dict | None = None) -> None:
    """Record the move (the task's fields already set by the caller), its stage row and its audit event."""
    before = task.stage
    task.stage = to_stage
    task.save()
    RiskTaskStage.objects.create(
        task=task, action=action, from_stage=before, to_stage=to_stage, actor=signed_in(actor), note=note[:2000]
    )
    record_event(
        actor=actor,
        verb=f"risk.task_{action}",
        target=task,
        summary=f"{ACTION_LABELS[action]}：{_stage_label(before)} → {_stage_label(to_stage)}"
        + (f"（{note[:200]}）" if note else ""),
        changes={"stage": [before, to_stage], **(changes or {})},
    )


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TaskRefused(f"请填写{what}。", code="required")
    return text


# --- creating -------------------------------------------------------------------------------------------------


def _check_assignment(*, taxpayer: Taxpayer, assignee, branch: Branch | None) -> None:
    if assignee is not None and branch is not None:
        raise TaskRefused("任务只能指派给一名风险管理股人员，或下发到一个分局，不能同时两者。", code="assignment")
    if assignee is not None and not (assignee.is_active and assignee.has_role(RoleCode.RISK_OFFICER)):
        raise TaskRefused(f"{_who(assignee)} 不是风险管理股的人员，不能承办风险任务。", code="assignment")
    if branch is not None and branch.pk != taxpayer.branch_id:
        raise TaskRefused(f"{taxpayer.name}由{taxpayer.branch.name}管理，风险任务只能下发到该分局。", code="assignment")


@transaction.atomic
def risk_task_create(
    *,
    actor,
    taxpayer: Taxpayer,
    source: str,
    title: str,
    description: str = "",
    application: RefundApplication | None = None,
    evidence: dict | None = None,
    due_on: dt.date | None = None,
    assignee=None,
    branch: Branch | None = None,
    severity: str = Severity.MEDIUM,
    hit: RiskHit | None = None,
    source_document: str = "",
    upload=None,
) -> RiskTask:
    """识别: a new task about ``taxpayer`` (and ``application``). With an ``assignee`` or a ``branch`` it is
    assigned at once (stage 任务; a branch must be the taxpayer's own). ``actor`` None: the scheduler (事后抽样).
    ``evidence``: the figures behind it; the pages show its ``"lines"`` ([label, value] pairs in Chinese) only."""
    if source not in TaskSource.values:
        raise TaskRefused("任务来源不正确。", code="source")
    title = _required(title, "任务名称")[:TITLE_MAX]
    if application is not None and application.taxpayer_id != taxpayer.pk:
        raise TaskRefused("所选退税申请不属于该纳税人。", code="application")
    if severity not in Severity.values:
        raise TaskRefused("风险程度不正确。", code="severity")
    _check_assignment(taxpayer=taxpayer, assignee=assignee, branch=branch)
    task = RiskTask.objects.create(
        taxpayer=taxpayer,
        application=application,
        hit=hit,
        source=source,
        source_document=source_document[:100],
        upload=upload,
        title=title,
        description=(description or "").strip(),
        evidence=evidence or {},
        severity=severity,
        due_on=due_on,
        created_by=signed_in(actor),
    )
    RiskTaskStage.objects.create(
        task=task,
        action="create",
        from_stage="",
        to_stage=TaskStage.IDENTIFIED,
        actor=signed_in(actor),
        note=TaskSource(source).label + (f"，{source_document}" if source_document else ""),
    )
    record_event(
        actor=actor,
        verb="risk.task_create",
        target=task,
        summary=f"建立风险任务（{TaskSource(source).label}）：{taxpayer.name} {title}",
        changes={"source": source, "taxpayer": taxpayer.pk, "application": application.pk if application else None},
    )
    if assignee is not None or branch is not None:
        task.assignee, task.branch = assignee, branch
        whom = branch.name if branch is not None else _who(assignee)
        _move(task=task, action="assign", actor=actor, to_stage=TaskStage.ASSIGNED, note=f"建立时派发给{whom}")
    return task


def hit_evidence(hit: RiskHit) -> dict:
    """A hit's figures as the task keeps them: the indicator, the raw figures and the lines officers read."""
    indicator = INDICATORS.get(hit.indicator_code)
    return {
        "indicator_code": hit.indicator_code,
        "indicator_title": indicator.title if indicator else "风险疑点",
        "figures": hit.evidence or {},
        "lines": [list(line) for line in evidence_lines(hit.indicator_code, hit.evidence or {})],
    }


def risk_task_create_from_hit(
    *, actor, hit: RiskHit, due_on: dt.date | None = None, description: str = "", title: str = ""
) -> RiskTask:
    """识别 from a scan's hit (扫描疑点): the indicator's title (unless told), its severity and the figures that fired
    it; refused while the hit has an open task."""
    _require_act(actor, "create")
    open_task = RiskTask.objects.filter(hit=hit).exclude(stage=TaskStage.CLOSED).values_list("pk", flat=True).first()
    if open_task is not None:
        raise TaskRefused(f"该疑点已有办理中的风险任务（编号 {open_task}），不必重复建立。", code="duplicate")
    evidence = hit_evidence(hit)
    application = RefundApplication.objects.filter(pk=hit.application_id).first() if hit.application_id else None
    return risk_task_create(
        actor=actor,
        taxpayer=hit.taxpayer,
        source=TaskSource.SCAN_HIT,
        title=title or evidence["indicator_title"],
        description=description,
        application=application,
        evidence=evidence,
        due_on=due_on,
        severity=hit.severity,
        hit=hit,
    )


# --- the stages -----------------------------------------------------------------------------------------------


@transaction.atomic
def risk_task_analyse(*, actor, task: RiskTask, note: str = "") -> RiskTask:
    """识别 → 分析: a risk officer takes the suspicion up."""
    _require_act(actor, "analyse")
    task = _lock(task, "analyse")
    _move(task=task, action="analyse", actor=actor, to_stage=TaskStage.ANALYSING, note=(note or "").strip())
    return task


@transaction.atomic
def risk_task_assign(
    *, actor, task: RiskTask, analysis: str, due_on: dt.date, assignee=None, branch: Branch | None = None
) -> RiskTask:
    """分析 → 任务: the analysis written, the task assigned to a risk officer or to the taxpayer's branch, with its
    due date. While no response is recorded it may be assigned again."""
    _require_act(actor, "assign")
    task = _lock(task, "assign")
    analysis = _required(analysis, "分析意见")
    if assignee is None and branch is None:
        raise TaskRefused("请选择承办人，或下发到纳税人的主管分局。", code="assignment")
    if due_on is None:
        raise TaskRefused("请填写应对期限。", code="due_on")
    if due_on < timezone.localdate():
        raise TaskRefused("应对期限不能早于今天。", code="due_on")
    _check_assignment(taxpayer=task.taxpayer, assignee=assignee, branch=branch)
    task.analysis, task.due_on, task.assignee, task.branch = analysis, due_on, assignee, branch
    whom = branch.name if branch is not None else _who(assignee)
    _move(
        task=task,
        action="assign",
        actor=actor,
        to_stage=TaskStage.ASSIGNED,
        note=f"派发给{whom}，应对期限 {due_on.isoformat()}；{analysis}",
        changes={"assignee": assignee.pk if assignee else None, "branch": branch.pk if branch else None},
    )
    return task


def risk_tasks_push_down(*, actor, tasks: Iterable[RiskTask], due_on: dt.date | None = None) -> tuple[int, list[str]]:
    """下发到分局, in bulk: each task not yet assigned goes to its taxpayer's branch (the higher bureau analysed
    it; 识别 or 分析 → 任务). Each task in its own transaction; returns how many moved and, for the rest, why not."""
    _require_act(actor, "push_down")
    moved, refused = 0, []
    for task in tasks:
        try:
            with transaction.atomic():
                locked = _lock(task, "push_down")
                branch = locked.taxpayer.branch
                due = locked.due_on or due_on
                if due is None:
                    raise TaskRefused("没有应对期限，请填写后再下发。", code="due_on")
                locked.branch, locked.assignee, locked.due_on = branch, None, due
                _move(
                    task=locked,
                    action="push_down",
                    actor=actor,
                    to_stage=TaskStage.ASSIGNED,
                    note=f"下发到{branch.name}，应对期限 {due.isoformat()}",
                    changes={"branch": branch.pk},
                )
        except ApplicationError as exc:
            refused.append(f"任务 {task.pk}（{task.title}）：{exc.message}")
        else:
            moved += 1
    return moved, refused


@transaction.atomic
def risk_task_respond(*, actor, task: RiskTask, findings: str) -> RiskTask:
    """应对: the assignee (or the assigned branch) records what the investigation found; the first record moves
    任务 → 应对, later ones update the findings until they are submitted."""
    task = _lock(task, "respond")
    _require_responder(actor, task, "respond")
    findings = _required(findings, "核查情况")
    if task.stage == TaskStage.RESPONDING:
        before = task.findings
        task.findings = findings
        task.save(update_fields=["findings", "updated_at"])
        record_event(
            actor=actor,
            verb="risk.task_respond",
            target=task,
            summary="修改核查情况",
            changes={"findings": [before[:200], findings[:200]]},
        )
        return task
    task.findings = findings
    _move(task=task, action="respond", actor=actor, to_stage=TaskStage.RESPONDING, note=findings[:500])
    return task


def _check_file(uploaded_file) -> tuple[str, str]:
    """(the original name, its extension) of an evidence file that may be stored, or the refusal."""
    original = Path(uploaded_file.name or "").name
    extension = Path(original).suffix.lower()
    if extension not in FILE_TYPES:
        kinds = "、".join(sorted({e.lstrip(".").upper() for e in FILE_TYPES}))
        raise TaskRefused(f"只能上传以下类型的文件：{kinds}。", code="file_type")
    size = uploaded_file.size or 0
    if size == 0:
        raise TaskRefused("上传的文件是空的。", code="file_empty")
    if size > MAX_FILE_BYTES:
        raise TaskRefused(f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请压缩或拆分后上传。", code="file_size")
    uploaded_file.seek(0)
    head = uploaded_file.read(16)
    uploaded_file.seek(0)
    if not any(head.startswith(magic) for magic in FILE_TYPES[extension]):
        raise TaskRefused(f"文件内容与扩展名“{extension}”不符，请上传原始文件。", code="file_type")
    return original, extension


@transaction.atomic
def risk_task_file_add(*, actor, task: RiskTask, uploaded_file) -> RiskTaskFile:
    """应对材料: an evidence file of the response, stored under a name of our own (the task and the file's digest);
    the name it was uploaded with is kept to show."""
    task = _lock(task, "respond")
    _require_responder(actor, task, "respond")
    original, extension = _check_file(uploaded_file)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    sha256 = digest.hexdigest()
    stored = RiskTaskFile(
        task=task,
        original_name=original[:255],
        size_bytes=uploaded_file.size,
        sha256=sha256,
        uploaded_by=signed_in(actor),
    )
    stored.file.save(f"task-{task.pk}-{sha256[:16]}{extension}", uploaded_file, save=False)
    stored.save()
    record_event(
        actor=actor,
        verb="risk.task_file_add",
        target=task,
        summary=f"上传应对材料“{original[:100]}”（{uploaded_file.size:,} 字节）",
        changes={"file": stored.pk, "sha256": sha256},
    )
    return stored


@transaction.atomic
def risk_task_file_open(*, actor, stored: RiskTaskFile):
    """The evidence file, opened for download; the download is audited."""
    record_event(
        actor=actor,
        verb="risk.task_file_download",
        target=stored.task,
        summary=f"下载应对材料“{stored.original_name[:100]}”",
        changes={"file": stored.pk},
    )
    return stored.file.open("rb")


@transaction.atomic
def risk_task_submit(*, actor, task: RiskTask) -> RiskTask:
    """应对 → 反馈: the responder hands the findings (and files) back to the risk section."""
    task = _lock(task, "submit")
    _require_responder(actor, task, "submit")
    if not task.findings.strip():
        raise TaskRefused("请先登记核查情况，再提交反馈。", code="required")
    task.responded_by, task.responded_at = signed_in(actor), timezone.now()
    _move(task=task, action="submit", actor=actor, to_stage=TaskStage.FEEDBACK, note=task.findings[:500])
    return task


@transaction.atomic
def risk_task_send_back(*, actor, task: RiskTask, reason: str) -> RiskTask:
    """反馈 → 应对: the findings are not enough; the responder adds to them."""
    _require_act(actor, "send_back")
    task = _lock(task, "send_back")
    reason = _required(reason, "退回补充的原因")
    task.responded_at = None
    _move(task=task, action="send_back", actor=actor, to_stage=TaskStage.RESPONDING, note=reason)
    return task


@transaction.atomic
def risk_task_outcome(
    *, actor, task: RiskTask, request: OutcomeRequest, decided_by: Consultation | None = None
) -> RiskTask:
    """反馈 → 监控: the outcome, acting through the owning app (``outcomes.OUTCOMES``) in this transaction: when
    that app refuses, nothing of the outcome is kept. A task on a 高风险 application takes its outcome from a
    collective consultation's decision (``decided_by``, which has already acted on the application), never from
    one officer."""
    _require_act(actor, "outcome")
    task = _lock(task, "outcome")
    outcome = OUTCOMES.get(request.code)
    if outcome is None:
        raise TaskRefused("请选择处理结果。", code="outcome")
    note = _required(request.note, "处理说明")
    if outcome.needs_application and task.application_id is None:
        raise TaskRefused(f"该任务未关联退税申请，不能“{outcome.label}”。", code="outcome")
    if decided_by is None and awaits_consultation(task):
        raise TaskRefused(
            "该申请为高风险，须提请集体会商，由会商决定作出处理结果。", code="consultation_required"
        )
    if decided_by is not None:
        done = f"集体会商第 {decided_by.pk} 号决定“{decided_by.get_decision_display()}”"
    else:
        done = outcome.act(actor=actor, task=task, request=request)
    task.outcome, task.outcome_note = outcome.code, note
    task.outcome_by, task.outcome_at = signed_in(actor), timezone.now()
    _move(
        task=task,
        action="outcome",
        actor=actor,
        to_stage=TaskStage.MONITORING,
        note=f"{done}：{note}",
        changes={"outcome": outcome.code},
    )
    return task


def awaits_consultation(task: RiskTask) -> bool:
    """Whether the task's application is graded 高风险 with no collective consultation decided on it: then only a
    consultation's decision gives the task its outcome."""
    if task.application_id is None:
        return False
    grade = application_grade(task.application_id)
    if grade is None or grade.grade != RiskGrade.HIGH:
        return False
    return not Consultation.objects.filter(
        application_id=task.application_id, state=Consultation.State.DECIDED
    ).exists()


@transaction.atomic
def risk_task_consult(*, actor, task: RiskTask, reason: str = "") -> Consultation:
    """提请集体会商: open a consultation on the task's 高风险 application (the task's findings as its cause) and link
    it; the consultation's decision becomes the task's outcome (``risk.tasks.consulting``)."""
    _require_act(actor, "consult")
    task = _lock(task, "consult")
    if not awaits_consultation(task):
        raise TaskRefused("只有高风险且尚无会商决定的申请需要提请集体会商。", code="consult")
    if task.consultation_id and task.consultation.state == Consultation.State.OPEN:
        raise TaskRefused(f"该任务已提请集体会商（第 {task.consultation_id} 号），请等待会商决定。", code="consult")
    cause = (reason or "").strip() or f"风险任务{task.pk}“{task.title}”：{task.findings or task.description}"
    consultation = consultation_open(actor=actor, application=task.application, reason=cause[:500])
    task.consultation = consultation
    task.save(update_fields=["consultation"])
    record_event(
        actor=actor,
        verb="risk.task_consult",
        target=task,
        summary=f"提请集体会商（第 {consultation.pk} 号）：{task.title}",
        changes={"consultation": consultation.pk},
    )
    return consultation


@transaction.atomic
def risk_task_close(*, actor, task: RiskTask, follow_up: str) -> RiskTask:
    """监控 → 已办结: after the follow-up (跟踪监控), with what it found."""
    _require_act(actor, "close")
    task = _lock(task, "close")
    task.follow_up = _required(follow_up, "跟踪监控情况")
    task.closed_at = timezone.now()
    _move(task=task, action="close", actor=actor, to_stage=TaskStage.CLOSED, note=task.follow_up)
    return task
