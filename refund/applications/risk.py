"""The risk gate of a 留抵退税申请: run on arrival (受理时扫描) and again before approval (审批前复核).

A hit sends the application back (回退) with the evidence an officer needs to verify it; the services in
``refund.applications.services`` record each finding as an ``ApplicationRiskHit`` and the return as a
transition. This module only reads: it decides, it does not write.

Checks (``CHECKS``, in this order; each has a stable code and a Chinese title):

- ``recomputation_mismatch`` 重算金额不一致 — the rules on the data as it stands now, against the claimed
  amount (arrival) or the confirmed amount (approval); tolerance 0.00 yuan. A confirmation the officer
  corrected with a reason is accepted as long as the rules still give what the officer saw when correcting.
- ``credit_level`` 纳税信用级别不符 — the rating in force on the application date (``application_date_for``),
  as recorded when the application was submitted and as the ratings stand now (a repair or 复评 dated on or
  before that day), must both be allowed (A or B, ``CREDIT_LEVELS_ALLOWED``; 财政部 税务总局公告2019年第39号
  第八条第（一）项第2目 and its successors: the level on the application date is the one that counts; a
  downgrade dated on or before it, recorded after submission, is still a finding).
- ``compliance_changed`` 涉税合规记录变化 — a compliance record (penalty, fraud finding, 即征即退) created or
  occurring since the latest screening (arrival) or since the receipt (approval), unless an officer already
  verified it on this application (a resolved finding that lists it).
- ``computed_ineligible`` 规则判定不符合 — the rules find the taxpayer ineligible, or cannot assess it.

Extension point for the risk app (风险管理). Dependencies point risk → refund, never back, so refund does not
import risk: the risk app registers its checks here, from its ``AppConfig.ready()``, with
``register_application_checks`` (only when it has a module of checks). Each check is any object with ``code``,
``title`` and ``run(context)`` — ``context`` being the ``RiskContext`` below (duck-typed: the risk app needs
nothing from refund) — and ``run`` returns ``None`` (no finding) or a JSON-ready evidence ``dict``. The provided
checks run after refund's own, in the order they were registered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from core.money import format_yuan
from core.periods import Period
from taxpayers.models import ComplianceRecord

from ..labels import condition_title, error_help, regime_title
from ..models import RefundApplication, ScreeningRun
from ..rules import CaseError
from ..rules.parameters import CREDIT_LEVELS_ALLOWED
from ..rules.regimes import cents
from ..rules.split import restricted_to
from ..screening.case_builder import level_in_force
from ..screening.decisions import Outcome

DEFAULT_ALLOWED_LEVELS = frozenset({"A", "B"})
ARRIVAL, APPROVAL = "arrival", "approval"  # ApplicationRiskHit.Stage values


def application_date_for(period: Period, received_on: dt.date) -> dt.date:
    """The rules' application date: the receipt, kept inside the application period (the parser requires it).

    A receipt after the period (an application filed on its last days and accepted after the month turned)
    counts as filed on the period's last day.
    """
    if Period.of(received_on) == period:
        return received_on
    return period.last_day if received_on > period.last_day else period.first_day


def level_at(application: RefundApplication) -> str:
    """The level in force on the application's date as the ratings stand now ("" when unrated)."""
    on_date = application_date_for(application.application_period, application.received_on)
    return level_in_force(application.taxpayer_id, on_date)


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
class Check:
    code: str
    title: str
    run: Callable[[RiskContext], dict | None]


@dataclass(frozen=True)
class Finding:
    code: str
    title: str
    evidence: dict


def _money(value: Decimal | None) -> str | None:
    """An amount for the evidence's machine keys: plain ``1234.50``."""
    return None if value is None else f"{value:.2f}"


def _shown(value: Decimal | None) -> str | None:
    """An amount for the evidence's ``facts`` (shown to officers): ``1,234.50``; the label says 元."""
    return None if value is None else format_yuan(value)


def _level_text(level: str) -> str:
    return f"{level}级" if level else "未评价"


# --- the checks --------------------------------------------------------------------------------------------


def check_recomputation(ctx: RiskContext) -> dict | None:
    app, figures = ctx.application, ctx.figures
    compared = ctx.compared_amount
    label = "申请退税额" if ctx.stage == ARRIVAL else "确认退税额"
    if figures.amount is None:
        return None  # the rules cannot assess it: ``computed_ineligible`` reports that
    if compared is not None and figures.amount == compared:
        return None
    if (
        ctx.stage == APPROVAL
        and app.correction_reason
        and app.computed_amount is not None
        and figures.amount == app.computed_amount
    ):
        return None  # a documented correction of figures that have not changed since
    evidence = {
        "rules_amount": _money(figures.amount),
        "rules_incremental": _money(figures.incremental),
        "rules_stock": _money(figures.stock),
        "compared_amount": _money(compared),
        "compared_label": label,
        "difference": _money(None if compared is None else compared - figures.amount),
        "regime": figures.regime,
        "facts": [
            ["规则按现有数据重算的可退税额（元）", _shown(figures.amount)],
            [f"{label}（元）", _shown(compared)],
            ["差额（元）", _shown(None if compared is None else compared - figures.amount)],
        ],
    }
    if ctx.stage == APPROVAL and app.computed_amount is not None and app.computed_amount != figures.amount:
        evidence["computed_amount_before"] = _money(app.computed_amount)
        evidence["facts"].append(["受理（或上次重算）时规则计算的可退税额（元）", _shown(app.computed_amount)])
    return evidence


def allowed_levels(period: Period) -> frozenset[str]:
    return CREDIT_LEVELS_ALLOWED.at(period) if CREDIT_LEVELS_ALLOWED.covers(period) else DEFAULT_ALLOWED_LEVELS


def check_credit_level(ctx: RiskContext) -> dict | None:
    app = ctx.application
    allowed = allowed_levels(app.application_period)
    at_submission = app.credit_level_at_submission
    # The rating in force on the application date as the ratings stand now: a 复评 or repair dated on or before
    # that day counts, a rating that took effect later does not.
    now = level_at(app)
    if at_submission in allowed and now in allowed:
        return None
    allowed_text = "或".join(sorted(allowed))
    return {
        "level_at_submission": at_submission,
        "level_now": now,
        "allowed": sorted(allowed),
        "facts": [
            ["申请时纳税信用级别", _level_text(at_submission)],
            ["当前纳税信用级别", _level_text(now)],
            ["要求", f"纳税信用级别为{allowed_text}级"],
        ],
    }


COMPLIANCE_KINDS_WATCHED = tuple(
    kind for kind in ComplianceRecord.Kind.values if kind != ComplianceRecord.Kind.IMMEDIATE_REFUND_REPAID
)
"""A repayment of 即征即退 (one-time, all of it) only ever helps the taxpayer: not a finding."""


def compliance_baseline(ctx: RiskContext) -> tuple[dt.datetime | None, dt.date | None, str]:
    """(since when, since which day, what that moment was): the latest screening, or the receipt."""
    app = ctx.application
    if ctx.stage == APPROVAL:
        return app.received_at, app.received_on, f"受理（{app.received_on.isoformat()}）"
    run = ScreeningRun.latest_succeeded(app.application_period) or (
        ScreeningRun.objects.filter(status=ScreeningRun.Status.SUCCEEDED).order_by("-finished_at", "-pk").first()
    )
    if run is None or run.started_at is None:
        return None, None, ""
    started = run.started_at
    day = timezone.localtime(started).date()
    return started, day, f"最近一次筛查（{run.application_period}，{timezone.localtime(started):%Y-%m-%d %H:%M}）"


def _verified_record_ids(application: RefundApplication) -> set[int]:
    """Records an officer already verified on this application (a resolved ``compliance_changed`` finding):
    once confirmed after verification they do not send the application back again."""
    if application.pk is None:
        return set()
    ids: set[int] = set()
    for evidence in application.risk_hits.filter(code="compliance_changed", resolved_at__isnull=False).values_list(
        "evidence", flat=True
    ):
        ids.update(record["id"] for record in (evidence or {}).get("records", []))
    return ids


def check_compliance(ctx: RiskContext) -> dict | None:
    since, since_day, label = compliance_baseline(ctx)
    if since is None:
        return None
    records = list(
        ComplianceRecord.objects.filter(taxpayer_id=ctx.application.taxpayer_id, kind__in=COMPLIANCE_KINDS_WATCHED)
        .filter(Q(created_at__gte=since) | Q(occurred_on__gte=since_day))
        .order_by("occurred_on", "pk")
    )
    verified = _verified_record_ids(ctx.application)
    records = [r for r in records if r.pk not in verified]
    if not records:
        return None
    kinds = dict(ComplianceRecord.Kind.choices)
    return {
        "since": since.isoformat(),
        "since_label": label,
        "records": [
            {
                "id": r.pk,
                "kind": r.kind,
                "kind_label": kinds.get(r.kind, r.kind),
                "occurred_on": r.occurred_on.isoformat(),
                "document_number": r.document_number,
                "imported_at": r.created_at.isoformat(),
            }
            for r in records
        ],
        "facts": [["比较起点", label]]
        + [
            [f"{kinds.get(r.kind, r.kind)}（文书号 {r.document_number}）", f"发生于 {r.occurred_on.isoformat()}"]
            for r in records
        ],
    }


def check_computed_ineligible(ctx: RiskContext) -> dict | None:
    figures = ctx.figures
    if figures.error:
        return {
            "error": figures.error,
            "message": figures.message,
            "facts": [["规则无法计算", figures.message or error_help(figures.error).title]],
        }
    if figures.eligible:
        return None
    return {
        "regime": figures.regime,
        "failed_conditions": list(figures.failed),
        "facts": [["适用政策", regime_title(figures.regime)]]
        + [[f"不符合：{condition_title(c['code'])}", c["detail"]] for c in figures.failed],
    }


RISK_TITLES: dict[str, str] = {
    "recomputation_mismatch": "重算金额不一致",
    "credit_level": "纳税信用级别不符",
    "compliance_changed": "涉税合规记录变化",
    "computed_ineligible": "规则判定不符合",
}
"""The Chinese title of each of refund's own checks: the page shows these, never the code. A provided check
(``register_application_checks``) brings its own ``title``; a finding stored with a title keeps it."""

UNKNOWN_RISK = "风险疑点"

CHECKS: list[Check] = [
    Check("recomputation_mismatch", RISK_TITLES["recomputation_mismatch"], check_recomputation),
    Check("credit_level", RISK_TITLES["credit_level"], check_credit_level),
    Check("compliance_changed", RISK_TITLES["compliance_changed"], check_compliance),
    Check("computed_ineligible", RISK_TITLES["computed_ineligible"], check_computed_ineligible),
]


def risk_title(code: str, stored: str = "") -> str:
    """The Chinese title of a risk check code: refund's table, then the registered and provided checks, then the
    title stored with the finding; never the code itself."""
    if code in RISK_TITLES:
        return RISK_TITLES[code]
    for check in [*CHECKS, *provided_checks()]:
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
    """Every check against ``application`` with the rules' ``decision`` on the current data; the hits."""
    ctx = RiskContext(
        application=application,
        stage=stage,
        decision=decision,
        figures=figures_of(decision, kind=application.kind),
        now=timezone.now(),
    )
    findings = []
    for check in [*CHECKS, *provided_checks()]:
        evidence = check.run(ctx)
        if evidence is not None:
            findings.append(Finding(check.code, check.title, evidence))
    return findings


def summary_of(findings: list[Finding]) -> str:
    return "、".join(f.title for f in findings)
