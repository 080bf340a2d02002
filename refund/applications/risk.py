"""The risk gate of a 留抵退税申请: run on arrival (受理时扫描) and again before approval (审批前复核).

A hit sends the application back (回退) with the evidence an officer needs to verify it; the services in
``refund.applications.services`` record each finding as an ``ApplicationRiskHit`` and the return as a
transition. This module only reads: it runs the checks, it does not write.

The checks themselves belong to the risk app's indicator library (风险管理: the four of recomputation, credit level,
compliance changes and the rules' verdict, with the parameters risk officers set). Dependencies point risk →
refund, never back, so refund does not import risk: the risk app registers its checks here from its
``AppConfig.ready()`` with ``register_application_checks``. Each check is any object with ``code``, ``title`` and
``run(context)`` — ``context`` being the ``RiskContext`` below (duck-typed) — and ``run`` returns ``None`` (no
finding) or a JSON-ready evidence ``dict``. The checks run in the order they were registered. A gate with no check
registered (the risk app not installed or not ready) refuses to decide (``GateUnavailable``) rather than let every
application through unchecked.

The risk grade (风险等级) comes the same way: the risk app registers a scanner (``register_application_scanner``)
that scans the application with its whole indicator library on arrival and again before approval, stores the
result and gives back the grade; ``grade_refusal`` says what the grade allows — 低: batch approval; 中: approval one
by one only; 高: approval only after a collective consultation (集体会商) decision, which whoever keeps the
consultations reports through ``register_consultation_decision``. Without a scanner the grade has no effect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core.errors import ApplicationError
from core.periods import Period

from ..models import RefundApplication
from ..rules import CaseError
from ..rules.regimes import cents
from ..rules.split import restricted_to
from ..screening.decisions import Outcome

ARRIVAL, APPROVAL = "arrival", "approval"  # ApplicationRiskHit.Stage values


def application_date_for(period: Period, received_on: dt.date) -> dt.date:
    """The rules' application date: the receipt, kept inside the application period (the parser requires it).

    A receipt after the period (an application filed on its last days and accepted after the month turned)
    counts as filed on the period's last day.
    """
    if Period.of(received_on) == period:
        return received_on
    return period.last_day if received_on > period.last_day else period.first_day


@dataclass(frozen=True)
class RuleFigures:
    """What the rules give an application now: its refundable amounts (restricted to the kind applied for)."""

    eligible: bool | None
    regime: str
    amount: Decimal | None
    incremental: Decimal | None
    stock: Decimal | None
    error: str = ""
    message: str = ""
    failed: tuple[dict, ...] = ()


def figures_of(decision: Outcome, *, kind: str) -> RuleFigures:
    """The rules' decision (or the reason it could not be made) as the figures of an application of ``kind``.

    An application for the incremental refund only is entitled to its incremental part, one for the stock
    refund only to its stock part; ``both`` to the total. Amounts in cents, as the contract reports them.
    """
    if isinstance(decision, CaseError):
        return RuleFigures(None, "", None, None, None, error=decision.code, message=decision.message)
    parts = restricted_to(
        kind, incremental=cents(decision.refundable_incremental), stock=cents(decision.refundable_stock)
    )
    failed = tuple(
        {"code": c.code, "detail": c.detail, "citation": c.citation} for c in decision.conditions if not c.passed
    )
    regime = decision.regime or ""
    return RuleFigures(decision.eligible, regime, parts.total, parts.incremental, parts.stock, failed=failed)


@dataclass(frozen=True)
class RiskContext:
    """What a check looks at. ``figures``: the rules on the data as it stands now."""

    application: RefundApplication
    stage: str  # "arrival" | "approval"
    decision: Outcome
    figures: RuleFigures
    now: dt.datetime

    @property
    def compared_amount(self) -> Decimal | None:
        """The amount the rules must reproduce: the claim on arrival, the confirmed amount before approval."""
        app = self.application
        return app.claimed_amount if self.stage == ARRIVAL else app.confirmed_amount


@dataclass(frozen=True)
class Finding:
    code: str
    title: str
    evidence: dict


UNKNOWN_RISK = "风险疑点"


class GateUnavailable(ApplicationError):
    """No check is registered: the risk app is not installed or not ready. Refused rather than passed unchecked."""

    code = "risk_gate_unavailable"


def risk_title(code: str, stored: str = "") -> str:
    """The Chinese title of a risk check code: the registered check's, then the title stored with the finding;
    never the code itself."""
    for check in provided_checks():
        if check.code == code and check.title:
            return check.title
    return stored or UNKNOWN_RISK


_PROVIDED: dict[str, object] = {}
"""The checks other apps provide, by code, in the order they were registered."""


def register_application_checks(checks: Iterable) -> None:
    """Add checks another app provides (the risk app, from its ``AppConfig.ready()``) to the gate; a check of a code
    already registered replaces the earlier one."""
    for check in checks:
        _PROVIDED[check.code] = check


def unregister_application_checks(checks: Iterable) -> None:
    """Take provided checks (or their codes) out of the gate again."""
    for check in checks:
        _PROVIDED.pop(getattr(check, "code", check), None)


def provided_checks() -> list:
    """The checks other apps registered, read at each gate."""
    return list(_PROVIDED.values())


def run_gate(*, application: RefundApplication, stage: str, decision: Outcome) -> list[Finding]:
    """Every registered check against ``application`` with the rules' ``decision`` on the current data; the hits.
    ``GateUnavailable`` when no check is registered."""
    checks = provided_checks()
    if not checks:
        raise GateUnavailable("风险检查未加载，暂不能办理受理和审批，请联系信息中心。")
    ctx = RiskContext(
        application=application,
        stage=stage,
        decision=decision,
        figures=figures_of(decision, kind=application.kind),
        now=timezone.now(),
    )
    findings = []
    for check in checks:
        evidence = check.run(ctx)
        if evidence is not None:
            findings.append(Finding(check.code, check.title, evidence))
    return findings


def summary_of(findings: list[Finding]) -> str:
    return "、".join(f.title for f in findings)


# --- the risk grade: the library's scan on arrival and before approval, and what the grade allows ------------

GRADE_LOW, GRADE_MEDIUM, GRADE_HIGH = "low", "medium", "high"


@dataclass(frozen=True)
class Grade:
    """What the risk app's scan of an application said: its grade (``low``/``medium``/``high``), the grade's
    Chinese name (低风险…) and a short Chinese summary of the hits ("" when none)."""

    grade: str
    label: str
    summary: str = ""


_SCANNER: list = []
"""The one scanner the risk app registers: an object with ``scan(*, application, stage, actor)`` returning a
``Grade``-like object (``grade``, ``label``, ``summary``) after storing the scan, and ``panel(application, user=None)``
returning the application page's risk panel (HTML) as ``user`` may act on it."""

_CONSULTATION: list[Callable[[RefundApplication], bool]] = []
"""Who can say a collective consultation (集体会商) decided that a high-risk application may be approved."""


def register_application_scanner(scanner) -> None:
    """Set the scanner (the risk app, from its ``AppConfig.ready()``); a second registration replaces the first."""
    _SCANNER[:] = [scanner]


def unregister_application_scanner() -> None:
    _SCANNER.clear()


def registered_scanner():
    """The scanner registered (None: none), so that a test can take it out and put it back."""
    return _SCANNER[0] if _SCANNER else None


def scan_application(*, application: RefundApplication, stage: str, actor) -> Grade | None:
    """Scan ``application`` with the risk library at ``stage`` (stored by the risk app, in the caller's transaction)
    and give its grade; None when no scanner is registered (then the grade has no effect)."""
    if not _SCANNER:
        return None
    found = _SCANNER[0].scan(application=application, stage=stage, actor=actor)
    return Grade(found.grade, found.label, getattr(found, "summary", "")) if found is not None else None


def risk_panel(application: RefundApplication, *, user=None) -> str:
    """The application page's risk panel (grade and hits with evidence) as the scanner renders it for ``user`` (its
    actions only for those who may take them); "" without one."""
    return _SCANNER[0].panel(application, user=user) if _SCANNER else ""


def register_consultation_decision(resolver: Callable[[RefundApplication], bool]) -> None:
    """Let ``resolver`` (the consultation feature) say that a 集体会商 decision allows approving an application."""
    if resolver not in _CONSULTATION:
        _CONSULTATION.append(resolver)


def unregister_consultation_decision(resolver: Callable[[RefundApplication], bool]) -> None:
    if resolver in _CONSULTATION:
        _CONSULTATION.remove(resolver)


def consultation_allows(application: RefundApplication) -> bool:
    """Whether a collective consultation decided that ``application`` may be approved (no resolver: it has not)."""
    return any(resolver(application) for resolver in _CONSULTATION)


class GradeRefused(ApplicationError):
    """The risk grade stops the approval: 中 in a batch, 高 without a collective consultation's decision."""

    code = "risk_grade_refused"


def grade_refusal(grade: Grade | None, *, application: RefundApplication, batch: bool) -> str:
    """Why the grade stops this approval (a Chinese sentence), or "" when it does not: 低 — batch approval too;
    中 — approved one by one, never in a batch; 高 — only after a 集体会商 decision, and never in a batch."""
    if grade is None or grade.grade == GRADE_LOW:
        return ""
    found = f"风险等级为{grade.label}" + (f"（{grade.summary}）" if grade.summary else "")
    if grade.grade == GRADE_HIGH and not consultation_allows(application):
        return f"{found}，须经集体会商作出决定后方可审批，目前尚无集体会商决定，未审批。"
    if batch:
        return f"{found}，须逐件审核后在申请页面单独审批，未纳入批量审批。"
    return ""


def approval_refusal(*, application: RefundApplication, actor, batch: bool) -> str:
    """The scan before approval (kept even when its grade refuses, in the caller's transaction) and why its grade
    stops the approval ("" when it does not)."""
    grade = scan_application(application=application, stage=APPROVAL, actor=actor)
    return grade_refusal(grade, application=application, batch=batch)
