"""A risk task on a 高风险 application is decided by collective consultation (集体会商): the consultation's decision,
which has already acted on the application through refund, becomes the task's outcome and moves it to 监控.
Connected to ``consultation_decided`` from ``RiskConfig.ready()``; it runs inside the deciding transaction, so a
refusal here undoes the decision too."""

from django.dispatch import receiver

from ..consultations.signals import consultation_decided
from ..models import Consultation, RiskTask, TaskStage
from .outcomes import OutcomeRequest
from .services import risk_task_outcome

DECISION_OUTCOMES = {
    Consultation.Decision.APPROVE: "cleared",
    Consultation.Decision.RETURN: "returned",
    Consultation.Decision.REJECT: "rejected",
    Consultation.Decision.STOP: "stopped",
}


@receiver(consultation_decided, dispatch_uid="risk_task_outcome_after_consultation")
def task_outcome_from_consultation(sender, *, consultation: Consultation, decision: str, **kwargs) -> None:
    note = consultation.decision_note or f"集体会商决定：{Consultation.Decision(decision).label}"
    for task in RiskTask.objects.filter(consultation=consultation, stage=TaskStage.FEEDBACK):
        risk_task_outcome(
            actor=consultation.decided_by,
            task=task,
            request=OutcomeRequest(DECISION_OUTCOMES[decision], note),
            decided_by=consultation,
        )
