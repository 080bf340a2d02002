"""风险任务's pages: the list with its filters in the URL, its export and the bulk push-down to branches; a task with
its stage history and the steps the user may take; a new task (by hand, from a scan's hit or from an
application's risk panel); the higher bureau's import; the response's evidence files. Thin: a selector to read, a
service to write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.exports import audited_xlsx_export
from core.errors import ApplicationError
from core.listing import paginate
from core.xlsx import file_download

from ..models import RiskTask, Severity, TaskSource, TaskStage
from ..selectors import application_grade
from . import imports, selectors, services
from .forms import STEP_FORMS, AssignForm, FileForm, ImportForm, OutcomeForm, PushDownForm, TaskForm
from .outcomes import OutcomeRequest, TransferDetails, outcome_choices

VIEW = "risk.view_risktask"
ACT = services.ACT
RESPOND = services.RESPOND
IMPORT = "risk.import_risktask"
EXPORT = "risk.export_risktask"

# The steps each stage offers, and who takes them: ``act`` the risk section, ``respond`` the assignee or branch.
STEPS = {
    TaskStage.IDENTIFIED: (("analyse", "act"), ("push_down", "act")),
    TaskStage.ANALYSING: (("assign", "act"),),
    TaskStage.ASSIGNED: (("respond", "respond"), ("file", "respond"), ("assign", "act")),
    TaskStage.RESPONDING: (("respond", "respond"), ("file", "respond"), ("submit", "respond")),
    TaskStage.FEEDBACK: (("outcome", "act"), ("consult", "act"), ("send_back", "act")),
    TaskStage.MONITORING: (("close", "act"),),
}
ACT_STEPS = {"analyse", "assign", "push_down", "outcome", "consult", "send_back", "close"}


def _is_responder(user, task: RiskTask) -> bool:
    if task.assignee_id:
        return task.assignee_id == user.pk
    return bool(task.branch_id) and user.branch_id == task.branch_id and user.has_perm(RESPOND)


def _steps(user, task: RiskTask) -> list[str]:
    """The steps this user may take now; at 反馈 a 高风险 application is decided by consultation, not by an outcome."""
    can_act, responds = user.has_perm(ACT), _is_responder(user, task)
    steps = [name for name, who in STEPS.get(task.stage, ()) if (can_act if who == "act" else responds)]
    if "outcome" in steps:
        consulting = services.awaits_consultation(task)
        waiting = consulting and task.consultation_id and task.consultation.state == "open"
        steps = [s for s in steps if s != ("outcome" if consulting else "consult") and not (s == "consult" and waiting)]
    return steps


def _forms(task: RiskTask, steps: list[str], bound: dict | None = None) -> dict:
    bound = bound or {}
    forms = {name: bound.get(name) or STEP_FORMS[name]() for name in steps if name in STEP_FORMS}
    if "respond" in forms and "respond" not in bound:
        forms["respond"] = STEP_FORMS["respond"](initial={"findings": task.findings})
    if "assign" in steps:
        forms["assign"] = bound.get("assign") or _assign_form(task)
    if "outcome" in steps:
        forms["outcome"] = bound.get("outcome") or OutcomeForm(choices=outcome_choices(task))
    if "file" in steps:
        forms["file"] = bound.get("file") or FileForm()
    return forms


def _assign_form(task: RiskTask, data=None) -> AssignForm:
    initial = {"due_on": task.due_on, "analysis": task.analysis}
    return AssignForm(data, branch_label=task.taxpayer.branch.name, officers=selectors.risk_officers(), initial=initial)


def _detail(request, task: RiskTask, *, bound: dict | None = None, status: int = 200):
    steps = _steps(request.user, task)
    grade = application_grade(task.application_id) if task.application_id else None
    context = {
        "task": task,
        "stages": selectors.task_stages(task),
        "files": selectors.task_files(task),
        "transfer": selectors.task_transfer(task),
        "overdue": task.is_overdue(timezone.localdate()),
        "steps": steps,
        "forms": _forms(task, steps, bound),
        "grade": grade,
        "evidence": _evidence_rows(task.evidence),
        "stage_path": [(value, label) for value, label in TaskStage.choices],
        "stage_index": TaskStage.values.index(task.stage),
    }
    return render(request, "risk/tasks/task_detail.html", context, status=status)


def _evidence_rows(evidence) -> list[tuple[str, str]]:
    """The task's evidence as the (label, value) lines kept with it, in words; stored keys are never shown."""
    if not isinstance(evidence, dict):
        return []
    return [(str(label), str(value)) for label, value in evidence.get("lines") or ()]


def _list_context(request) -> dict:
    today = timezone.localdate()
    tasks = selectors.tasks_for_user(user=request.user, filters=request.GET, today=today)
    listing = paginate(request, tasks)
    return {
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "today": today,
        "stages": TaskStage.choices,
        "sources": TaskSource.choices,
        "officers": selectors.risk_officers() if request.user.has_perm(ACT) else [],
        "branches": selectors.branches(),
        "f": {key: request.GET.get(key, "") for key in ("stage", "source", "assignee", "branch", "overdue")},
        "can_act": request.user.has_perm(ACT),
        "can_export": request.user.has_perm(EXPORT),
        "can_import": request.user.has_perm(IMPORT),
        "push_form": PushDownForm(),
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def task_list(request):
    """风险任务 the user may see, filtered by stage, source, assignee, branch and overdue in the URL."""
    return render(request, "risk/tasks/task_list.html", _list_context(request))


EXPORT_HEADERS = (
    "任务编号",
    "纳税人识别号",
    "纳税人名称",
    "主管分局",
    "任务来源",
    "来源文号",
    "任务名称",
    "风险程度",
    "阶段",
    "承办",
    "应对期限",
    "是否超期",
    "处理结果",
    "建立时间",
)


@login_required
@permission_required(EXPORT, raise_exception=True)
@require_GET
def task_export(request):
    """The list as filtered, to xlsx (audited)."""
    today = timezone.localdate()
    tasks = selectors.tasks_for_user(user=request.user, filters=request.GET, today=today)
    rows = (
        (
            t.pk,
            t.taxpayer.identifier,
            t.taxpayer.name,
            t.taxpayer.branch.name,
            t.get_source_display(),
            t.source_document,
            t.title,
            t.get_severity_display(),
            t.get_stage_display(),
            t.branch.name if t.branch_id else (t.assignee.full_name or t.assignee.username if t.assignee_id else ""),
            t.due_on,
            t.is_overdue(today),
            t.outcome_label if t.outcome else "",
            t.created_at,
        )
        for t in tasks.iterator(chunk_size=2000)
    )
    return audited_xlsx_export(
        request, title="风险任务", object_type="risk.risktask", headers=EXPORT_HEADERS, rows=rows
    )


@login_required
@permission_required(ACT, raise_exception=True)
@require_POST
def task_push_down(request):
    """下发到分局: the ticked tasks to their taxpayers' branches."""
    ids = [int(v) for v in request.POST.getlist("task") if v.isdigit()]
    form = PushDownForm(request.POST)
    back = reverse("risk:tasks") + (f"?{request.POST['query']}" if request.POST.get("query") else "")
    if not ids:
        messages.error(request, "请先勾选要下发的任务。")
        return redirect(back)
    due_on = form.cleaned_data.get("due_on") if form.is_valid() else None
    tasks = selectors.tasks_by_ids_for_user(user=request.user, ids=ids)
    moved, refused = services.risk_tasks_push_down(actor=request.user, tasks=tasks, due_on=due_on)
    if moved:
        messages.success(request, f"已下发 {moved} 件任务到纳税人的主管分局。")
    if refused:
        more = "等。" if len(refused) > 5 else ""
        messages.error(request, f"{len(refused)} 件未下发：" + "；".join(refused[:5]) + more)
    return redirect(back)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def task_detail(request, pk: int):
    return _detail(request, selectors.task_for_user(user=request.user, pk=pk))


def _outcome_request(form: OutcomeForm) -> OutcomeRequest:
    data = form.cleaned_data
    transfer = None
    if data["outcome"] == "transferred":
        transfer = TransferDetails(
            data["transfer_number"], data["transferred_on"], data["receiving_unit"], data["case_summary"]
        )
    return OutcomeRequest(data["outcome"], data["note"], transfer, data.get("amount"))


def _run_step(request, task: RiskTask, action: str):
    """(the bound form when it is not valid, else None) after running ``action``'s service."""
    user = request.user
    if action == "submit":
        services.risk_task_submit(actor=user, task=task)
        return None
    if action == "assign":
        form = _assign_form(task, request.POST)
        if not form.is_valid():
            return form
        data = form.cleaned_data
        officers = {str(u.pk): u for u in selectors.risk_officers()}
        assignee = None if data["to"] == "branch" else officers[data["to"]]
        branch = task.taxpayer.branch if data["to"] == "branch" else None
        services.risk_task_assign(
            actor=user, task=task, analysis=data["analysis"], due_on=data["due_on"], assignee=assignee, branch=branch
        )
        return None
    if action == "consult":
        services.risk_task_consult(actor=user, task=task)
        return None
    if action == "outcome":
        form = OutcomeForm(request.POST, choices=outcome_choices(task))
        if not form.is_valid():
            return form
        services.risk_task_outcome(actor=user, task=task, request=_outcome_request(form))
        return None
    form = STEP_FORMS[action](request.POST)
    if not form.is_valid():
        return form
    data = form.cleaned_data
    {
        "analyse": lambda: services.risk_task_analyse(actor=user, task=task, note=data["note"]),
        "respond": lambda: services.risk_task_respond(actor=user, task=task, findings=data["findings"]),
        "send_back": lambda: services.risk_task_send_back(actor=user, task=task, reason=data["reason"]),
        "close": lambda: services.risk_task_close(actor=user, task=task, follow_up=data["follow_up"]),
    }[action]()
    return None


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def task_act(request, pk: int, action: str):
    """One step of a task; a form with errors comes back on the task's page (400), a refusal as a message."""
    task = selectors.task_for_user(user=request.user, pk=pk)
    if action not in (*STEP_FORMS, "assign", "outcome", "consult", "submit"):
        raise Http404("no such step")
    if action in ACT_STEPS and not request.user.has_perm(ACT):
        raise PermissionDenied
    if action not in ACT_STEPS and not request.user.has_perm(RESPOND):
        raise PermissionDenied
    try:
        invalid = _run_step(request, task, action)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("risk:task", task.pk)
    if invalid is not None:
        return _detail(request, task, bound={action: invalid}, status=400)
    messages.success(request, f"已{services.ACTION_LABELS[action]}。")
    return redirect("risk:task", task.pk)


@login_required
@permission_required(RESPOND, raise_exception=True)
@require_POST
def task_file_upload(request, pk: int):
    """应对材料: one evidence file, checked for type and size."""
    task = selectors.task_for_user(user=request.user, pk=pk)
    form = FileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, task, bound={"file": form}, status=400)
    try:
        stored = services.risk_task_file_add(actor=request.user, task=task, uploaded_file=form.cleaned_data["file"])
    except ApplicationError as exc:
        form.add_error("file", exc.message)
        return _detail(request, task, bound={"file": form}, status=400)
    messages.success(request, f"已上传“{stored.original_name}”。")
    return redirect("risk:task", task.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def task_file_download(request, pk: int, file_pk: int):
    """The evidence file as uploaded, under its own name; the download is audited."""
    stored = selectors.task_file_for_user(user=request.user, task_pk=pk, pk=file_pk)
    if not stored.file or not stored.file.storage.exists(stored.file.name):
        raise Http404("the file is no longer stored")
    return file_download(services.risk_task_file_open(actor=request.user, stored=stored), stored.original_name)


def _new_context(request) -> dict:
    """The task's subject from the URL: a hit (``?hit=``), an application (``?application=``), else by hand."""
    hit_id, application_id = request.GET.get("hit", ""), request.GET.get("application", "")
    if hit_id.isdigit():
        hit = selectors.hit_for_task(int(hit_id))
        evidence = services.hit_evidence(hit)
        initial = {"title": evidence["indicator_title"], "severity": hit.severity}
        return {"hit": hit, "taxpayer": hit.taxpayer, "evidence": evidence["lines"], "initial": initial}
    if application_id.isdigit():
        application = selectors.application_for_task(user=request.user, pk=int(application_id))
        evidence = selectors.application_evidence(application.pk)
        severity = {"high": Severity.HIGH, "low": Severity.LOW}.get(evidence["grade"], Severity.MEDIUM)
        initial = {"title": f"{application.application_period} 所属期留抵退税申请风险核查", "severity": severity}
        return {
            "application": application,
            "taxpayer": application.taxpayer,
            "evidence": evidence["lines"],
            "evidence_dict": evidence,
            "initial": initial,
        }
    return {"initial": {}}


def _create(request, ctx: dict, data: dict) -> RiskTask:
    common = {"actor": request.user, "due_on": data["due_on"], "description": data["description"]}
    if ctx.get("hit") is not None:
        return services.risk_task_create_from_hit(hit=ctx["hit"], title=data["title"], **common)
    taxpayer, source, application = ctx.get("taxpayer"), TaskSource.MANUAL, ctx.get("application")
    if application is not None:
        source = TaskSource.APPLICATION
    if taxpayer is None:
        taxpayer = selectors.taxpayer_by_identifier(user=request.user, identifier=data["identifier"] or "")
        if taxpayer is None:
            raise services.TaskRefused("请填写系统中已登记的纳税人识别号。")
    return services.risk_task_create(
        taxpayer=taxpayer,
        source=source,
        title=data["title"],
        application=application,
        evidence=ctx.get("evidence_dict") or {},
        severity=data["severity"],
        **common,
    )


@login_required
@permission_required(ACT, raise_exception=True)
@require_http_methods(["GET", "POST"])
def task_new(request):
    """建立风险任务 (识别)."""
    ctx = _new_context(request)
    form = TaskForm(request.POST or None, initial=ctx["initial"])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                task = _create(request, ctx, form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已建立风险任务（编号 {task.pk}）。")
                return redirect("risk:task", task.pk)
        status = 400
    return render(request, "risk/tasks/task_new.html", {**ctx, "form": form}, status=status)


@login_required
@permission_required(IMPORT, raise_exception=True)
@require_http_methods(["GET", "POST"])
def task_import(request):
    """导入上级下发风险任务: all rows or none, with each row's errors in Chinese."""
    errors, warnings, status = [], [], 200
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                upload, created = imports.risk_tasks_import(
                    actor=request.user,
                    source_name=form.cleaned_data["source_name"],
                    uploaded_file=form.cleaned_data["file"],
                )
            except imports.UpperTasksRejected as exc:
                errors, warnings = exc.errors, exc.warnings
                form.add_error(None, exc.message)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                if created:
                    messages.success(
                        request, f"已导入上级下发风险任务 {upload.row_count} 件，请在列表中勾选后下发到分局。"
                    )
                else:
                    messages.info(request, f"该文件此前已导入（{upload.row_count} 件），未作任何更改。")
                return redirect(reverse("risk:tasks") + f"?source={TaskSource.UPPER}&stage={TaskStage.IDENTIFIED}")
        status = 400
    context = {"form": form, "errors": errors, "warnings": warnings, "imports": selectors.imports()}
    return render(request, "risk/tasks/task_import.html", context, status=status)
