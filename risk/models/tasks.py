"""Risk tasks (风险任务) and what they carry through the six stages of the closed loop: 识别 → 分析 → 任务 →
应对 → 反馈 → 监控, then 已办结 after the follow-up.

A task concerns one taxpayer and, optionally, one refund application. It is worked either by a risk officer
(``assignee``) or by the branch that manages the taxpayer (``branch``, 下发到分局): a branch officer sees and
responds to the tasks of its own branch only, and the scoping gateway reads ``branch`` for that. Every move is a
row of ``RiskTaskStage`` (who, when, note); the response (应对) keeps its findings on the task and its evidence
files in ``RiskTaskFile``; an outcome of 移送稽查 keeps its transfer record in ``InspectionTransfer``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Branch
from refund.models import RefundApplication
from taxpayers.models import Taxpayer

from .consultations import Consultation
from .scans import RiskHit, Severity


class TaskStage(models.TextChoices):
    """The six stages of the closed loop (闭环管理), and the end."""

    IDENTIFIED = "identified", "识别"
    ANALYSING = "analysing", "分析"
    ASSIGNED = "assigned", "任务"
    RESPONDING = "responding", "应对"
    FEEDBACK = "feedback", "反馈"
    MONITORING = "monitoring", "监控"
    CLOSED = "closed", "已办结"


OPEN_STAGES = tuple(s for s in TaskStage.values if s != TaskStage.CLOSED)
DUE_STAGES = (TaskStage.IDENTIFIED, TaskStage.ANALYSING, TaskStage.ASSIGNED, TaskStage.RESPONDING)
"""The stages the due date (应对期限) runs in: a task still in one of them after its due date is overdue."""


class TaskSource(models.TextChoices):
    """Where a task came from (任务来源)."""

    SCAN_HIT = "scan_hit", "扫描疑点"
    APPLICATION = "application", "申请审核"
    UPPER = "upper", "上级下发"
    SAMPLING = "sampling", "事后抽样"
    MANUAL = "manual", "人工"


class RiskTaskImport(models.Model):
    """上级下发风险任务: one xlsx of the higher bureau's tasks, stored only when every row is right."""

    source_name = models.CharField("下发单位", max_length=100)
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("文件摘要", max_length=64)
    row_count = models.PositiveIntegerField("任务数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "上级下发风险任务导入"
        verbose_name_plural = "上级下发风险任务导入"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["sha256"], name="risk_task_import_once")]

    def __str__(self) -> str:
        return f"{self.source_name} {self.original_name}"


class RiskTask(models.Model):
    """风险任务: a suspicion about a taxpayer (and its application) worked through the six stages to an outcome."""

    taxpayer = models.ForeignKey(Taxpayer, verbose_name="纳税人", on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        RefundApplication,
        verbose_name="退税申请",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    hit = models.ForeignKey(
        RiskHit, verbose_name="风险疑点", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consultation = models.ForeignKey(
        Consultation,
        verbose_name="集体会商",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        help_text="高风险申请的任务提请的集体会商；其决定即任务的处理结果",
    )
    source = models.CharField("任务来源", max_length=12, choices=TaskSource.choices)
    source_document = models.CharField("来源文号", max_length=100, blank=True)
    upload = models.ForeignKey(
        RiskTaskImport, verbose_name="导入批次", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    title = models.CharField("任务名称", max_length=200)
    description = models.TextField("任务说明", blank=True)
    evidence = models.JSONField("疑点依据", default=dict, blank=True)
    severity = models.CharField("风险程度", max_length=6, choices=Severity.choices, default=Severity.MEDIUM)
    stage = models.CharField("阶段", max_length=12, choices=TaskStage.choices, default=TaskStage.IDENTIFIED)
    due_on = models.DateField("应对期限", null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    branch = models.ForeignKey(
        Branch, verbose_name="承办分局", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    analysis = models.TextField("分析意见", blank=True)
    findings = models.TextField("核查情况", blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="应对人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_at = models.DateTimeField("应对提交时间", null=True, blank=True)
    # 反馈's outcome: a key of ``risk.tasks.outcomes.OUTCOMES``, the one table of outcomes and their Chinese names
    # (kept out of the column's choices so that an outcome added there needs no migration).
    outcome = models.CharField("处理结果", max_length=20, blank=True)
    outcome_note = models.TextField("处理说明", blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome_at = models.DateTimeField("处理时间", null=True, blank=True)
    follow_up = models.TextField("跟踪监控情况", blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="建立人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("建立时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "风险任务"
        verbose_name_plural = "风险任务"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("act_risktask", "办理风险任务（分析、派发、处理、办结）"),
            ("respond_risktask", "应对风险任务"),
            ("import_risktask", "导入上级下发风险任务"),
            ("export_risktask", "导出风险任务"),
        ]
        indexes = [
            models.Index(fields=["stage", "due_on"], name="risk_task_stage_due"),
            models.Index(fields=["branch", "stage"], name="risk_task_branch_stage"),
            models.Index(fields=["application"], name="risk_task_application"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=("identified", "analysing"))
                | Q(assignee__isnull=False)
                | Q(branch__isnull=False),
                name="risk_task_assigned_from_task_stage",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=("monitoring", "closed")) | Q(outcome=""), name="risk_task_outcome_at_feedback"
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=("monitoring", "closed")) | ~Q(outcome=""), name="risk_task_outcome_set"
            ),
        ]

    def __str__(self) -> str:
        return f"风险任务 {self.pk}：{self.title}"[:200]

    @property
    def is_open(self) -> bool:
        return self.stage != TaskStage.CLOSED

    def is_overdue(self, today) -> bool:
        return self.stage in DUE_STAGES and self.due_on is not None and self.due_on < today

    @property
    def outcome_label(self) -> str:
        from risk.tasks.outcomes import outcome_label  # the table lives beside the services that use it

        return outcome_label(self.outcome)

    @property
    def stage_tag(self) -> str:
        """The stage's colour: waiting grey, in progress blue, needs attention orange, done green."""
        return {
            TaskStage.IDENTIFIED: "tag-waiting",
            TaskStage.ANALYSING: "tag-progress",
            TaskStage.ASSIGNED: "tag-progress",
            TaskStage.RESPONDING: "tag-progress",
            TaskStage.FEEDBACK: "tag-attention",
            TaskStage.MONITORING: "tag-progress",
            TaskStage.CLOSED: "tag-done",
        }.get(self.stage, "tag-waiting")


class RiskTaskStage(models.Model):
    """One move of a task (阶段记录): from which stage to which, who, when and the note."""

    task = models.ForeignKey(RiskTask, verbose_name="风险任务", on_delete=models.CASCADE, related_name="stages")
    action = models.CharField("操作", max_length=20)
    from_stage = models.CharField("原阶段", max_length=12, choices=TaskStage.choices, blank=True)
    to_stage = models.CharField("新阶段", max_length=12, choices=TaskStage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "风险任务阶段记录"
        verbose_name_plural = "风险任务阶段记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.from_stage} → {self.to_stage}"


class RiskTaskFile(models.Model):
    """An evidence file of the response (应对材料), stored under a name of our own; ``original_name`` is shown."""

    task = models.ForeignKey(RiskTask, verbose_name="风险任务", on_delete=models.CASCADE, related_name="files")
    file = models.FileField("文件", upload_to="risk/tasks/%Y/%m/")
    original_name = models.CharField("文件名", max_length=255)
    size_bytes = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("文件摘要", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "风险任务应对材料"
        verbose_name_plural = "风险任务应对材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class InspectionTransfer(models.Model):
    """移送稽查: the transfer record of a task whose outcome hands the case to inspection."""

    task = models.OneToOneField(RiskTask, verbose_name="风险任务", on_delete=models.PROTECT, related_name="transfer")
    transfer_number = models.CharField("移送文号", max_length=100, unique=True)
    transferred_on = models.DateField("移送日期")
    receiving_unit = models.CharField("接收单位", max_length=100)
    case_summary = models.TextField("案情摘要")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "移送稽查记录"
        verbose_name_plural = "移送稽查记录"
        ordering = ["-transferred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.transfer_number} {self.receiving_unit}"
