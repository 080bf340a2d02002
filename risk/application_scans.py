"""The risk library's scan of each 留抵退税申请 on arrival (受理时扫描) and again before approval (审批前复核), as the
applications' workflow asks for it through refund's registry (``register_application_scanner``; refund never
imports risk): every indicator on the application's taxpayer as of its receipt, the hits and the grade (低/中/高)
stored with the parameter versions and grade rules used (``risk_scan_application``). Refund gets back the grade
and acts on it (batch approval, collective consultation); the application page shows the panel rendered here, with
the application's collective consultations (集体会商) and, for a 高风险 one, the way to open one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string

from refund.models import OPEN_APPLICATION_STATES

from .consultations.selectors import application_consultations
from .indicators import INDICATORS
from .models import Consultation, RiskHit, Severity
from .selectors import application_risk_panel
from .services import risk_scan_application
from .tasks.selectors import application_tasks, open_task_of_hits
from .tasks.services import ACT as TASK_ACT

STAGE_LABELS = {"arrival": "受理时扫描", "approval": "审批前复核"}
SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
SUMMARY_TITLES = 3


@dataclass(frozen=True)
class ScanGrade:
    """What refund reads of a scan: the grade's value and Chinese name, and the hits in a few words."""

    grade: str
    label: str
    summary: str


def hits_summary(hits: list[RiskHit]) -> str:
    """The hits in a few words ("2 个疑点：A、B"), most severe first, ``SUMMARY_TITLES`` at most; "" for none."""
    if not hits:
        return ""
    ordered = sorted(hits, key=lambda h: (SEVERITY_ORDER.get(h.severity, 3), h.indicator_code))
    titles = [INDICATORS[h.indicator_code].title if h.indicator_code in INDICATORS else "风险疑点" for h in ordered]
    named = "、".join(titles[:SUMMARY_TITLES]) + ("等" if len(titles) > SUMMARY_TITLES else "")
    return f"{len(hits)} 个疑点：{named}"


class ApplicationScanner:
    """Registered with refund's gate by ``risk.apps``."""

    def scan(self, *, application, stage: str, actor) -> ScanGrade:
        scan = risk_scan_application(actor=actor, application=application, message=STAGE_LABELS.get(stage, ""))
        result = scan.results.get(application_id=application.pk)
        hits = list(scan.hits.filter(application_id=application.pk))
        return ScanGrade(result.grade, result.get_grade_display(), hits_summary(hits))

    def panel(self, application, user=None) -> str:
        """The grade and hits with evidence; the application's consultations and risk tasks linked for who may see
        them, and the ways to open one for who may."""
        may_see = user is not None and user.has_perm("risk.view_consultation")
        consultations = application_consultations(application.pk) if may_see else []
        context = {
            **application_risk_panel(application.pk),
            "application": application,
            "application_id": application.pk,
            "consultations": consultations,
            "may_open": user is not None
            and user.has_perm("risk.add_consultation")
            and application.state in OPEN_APPLICATION_STATES
            and not any(c.state == Consultation.State.OPEN for c in consultations),
        }
        context["tasks"] = application_tasks(application.pk, user=user)
        context["can_open_task"] = bool(user is not None and user.has_perm(TASK_ACT))
        if context["can_open_task"]:
            open_tasks = open_task_of_hits(hit["id"] for hit in context["hits"])
            for hit in context["hits"]:
                hit["open_task"] = open_tasks.get(hit["id"])
        return render_to_string("risk/application_panel.html", context)


SCANNER = ApplicationScanner()
