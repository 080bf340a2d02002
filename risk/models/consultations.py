"""集体会商 (collective consultation): the policy (税政), legal (法制), risk (风险) and branch (分局) sections
weigh a high-risk refund application together. The host (主持人, a risk officer) opens it with a reason, each
invited participant records an opinion, and the host records the minutes (会议纪要) and the decision, which is
what moves the application: 同意退税 lets it be approved, 退回申请 returns it, 不予退税 rejects it.

A decided consultation is read-only: the database refuses a decision without its minutes, time and officer, and
an application has at most one consultation open at a time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Section(models.TextChoices):
    """The section a participant speaks for (参会部门)."""

    POLICY = "policy", "税政"
    LEGAL = "legal", "法制"
    RISK = "risk", "风险"
    BRANCH = "branch", "分局"


class Consultation(models.Model):
    """集体会商 of one refund application."""

    class State(models.TextChoices):
        OPEN = "open", "会商中"
        DECIDED = "decided", "已决定"

    class Decision(models.TextChoices):
        APPROVE = "approve", "同意退税"
        RETURN = "return", "退回申请"
        REJECT = "reject", "不予退税"
        STOP = "stop", "终止退税"

    application = models.ForeignKey(
        "refund.RefundApplication", verbose_name="退税申请", on_delete=models.PROTECT, related_name="consultations"
    )
    reason = models.CharField("提请会商事由", max_length=500)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="主持人", on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField("发起时间", auto_now_add=True)
    scan_id = models.BigIntegerField("会商所据风险扫描", null=True, blank=True)
    grade = models.CharField("发起时风险等级", max_length=10, blank=True)
    minutes = models.TextField("会议纪要", blank=True)
    decision = models.CharField("会商决定", max_length=10, choices=Decision.choices, blank=True)
    decision_note = models.CharField("决定说明", max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)

    class Meta:
        verbose_name = "集体会商"
        verbose_name_plural = "集体会商"
        ordering = ["-opened_at", "-id"]
        permissions = [
            ("opine_consultation", "发表会商意见"),
            ("decide_consultation", "记录会商纪要和决定"),
            ("export_consultation", "导出集体会商"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(state="open"), name="risk_consultation_one_open"
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="open", decision="", decided_at__isnull=True, decided_by__isnull=True)
                    | (
                        Q(state="decided", decided_at__isnull=False, decided_by__isnull=False)
                        & ~Q(decision="")
                        & ~Q(minutes="")
                    )
                ),
                name="risk_consultation_decided_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"集体会商第 {self.pk} 号"


class ConsultationParticipant(models.Model):
    """参会人: an officer invited for a section, and the opinion they recorded (blank until they do)."""

    class Opinion(models.TextChoices):
        AGREE = "agree", "同意"
        DISAGREE = "disagree", "不同意"
        SUPPLEMENT = "supplement", "补充意见"

    consultation = models.ForeignKey(
        Consultation, verbose_name="集体会商", on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="参会人", on_delete=models.PROTECT, related_name="+"
    )
    section = models.CharField("部门", max_length=10, choices=Section.choices)
    opinion = models.CharField("意见", max_length=12, choices=Opinion.choices, blank=True)
    text = models.TextField("意见内容", blank=True)
    recorded_at = models.DateTimeField("发表时间", null=True, blank=True)

    class Meta:
        verbose_name = "会商参会人"
        verbose_name_plural = "会商参会人"
        ordering = ["consultation", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "user"], name="risk_consultation_participant_once"),
            models.CheckConstraint(
                condition=Q(opinion="", recorded_at__isnull=True) | (~Q(opinion="") & Q(recorded_at__isnull=False)),
                name="risk_consultation_opinion_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_section_display()} {self.user}"
