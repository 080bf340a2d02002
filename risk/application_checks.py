"""The four checks of the applications' risk gate (退税申请风险关卡), run on each application on arrival (受理时扫描)
and again before approval (审批前复核). A hit sends the application back (回退) with the evidence an officer needs
to verify it; refund records each finding as an ``ApplicationRiskHit`` and the return as a transition. These
checks only read: they decide, they do not write.

Checks (``APPLICATION_CHECKS``, in this order; each has a stable code and a Chinese title):

- ``recomputation_mismatch`` 重算金额不一致 — the rules on the data as it stands now, against the claimed
  amount (arrival) or the confirmed amount (approval), with a tolerance (``tolerance``, 0.00 yuan unless risk
  officers set another). A confirmation the officer corrected with a reason is accepted as long as the rules
  still give what the officer saw when correcting.
- ``credit_level`` 纳税信用级别不符 — the rating in force on the application date, as recorded when the
  application was submitted and as the ratings stand now (a repair or 复评 dated on or before that day), must
  both be allowed (``levels``: the refund rules' A or B unless risk officers set others; 财政部 税务总局 海关总署
  公告2019年第39号 第八条第（一）项第2目 and its successors: the level on the application date is the one that
  counts; a downgrade dated on or before it, recorded after submission, is still a finding).
- ``compliance_changed`` 涉税合规记录变化 — a compliance record (penalty, fraud finding, 即征即退) created or
  occurring since the latest screening (arrival) or since the receipt (approval), unless an officer already
  verified it on this application (a resolved finding that lists it).
- ``computed_ineligible`` 规则判定不符合 — the rules find the taxpayer ineligible, or cannot assess it.

Each check is also an entry of the indicator library (``GATE_CHECKS``, by library code ``APP_…``): its
parameters are ``IndicatorParameterVersion`` rows that risk officers edit on the indicator pages, with history
and effective dates; the version in force on the application date applies. ``risk.apps`` hands
``APPLICATION_CHECKS`` to refund's registry (``refund.applications.risk``) — refund never imports risk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from core.money import format_yuan
from core.periods import Period
from refund.applications.risk import APPROVAL, ARRIVAL, application_date_for
from refund.labels import condition_title, error_help, regime_title
from refund.models import RefundApplication, ScreeningRun
from refund.rules.parameters import CREDIT_LEVELS_ALLOWED, DOC_7, DOC_39
from refund.screening.case_builder import level_in_force
from taxpayers.models import ComplianceRecord

from .indicators.base import Family, Kind, Parameter
from .models import IndicatorParameterVersion, Severity

DEFAULT_ALLOWED_LEVELS = ("A", "B")
LEVELS = ("A", "B", "M", "C", "D")


@dataclass(frozen=True)
class CitedParameter(Parameter):
    """A gate check's parameter: as an indicator's, with the legal basis of its default (``citation``)."""

    citation: str = ""

    def shown(self, text: str) -> str:
        return f"{text}{self.unit}" if self.unit else text


@dataclass(frozen=True)
class LevelsParameter(CitedParameter):
    """The credit levels allowed (纳税信用级别): letters of A, B, M, C, D, stored as ``A,B``."""

    kind: str = "levels"

    def parse(self, text: object) -> tuple[str, ...]:
        raw = str(text if text is not None else "").strip().replace("，", ",").replace("、", ",")
        levels = tuple(sorted({c.strip().upper().removesuffix("级") for c in raw.split(",") if c.strip()}))
        if not levels or any(level not in LEVELS for level in levels):
            raise ValueError(f"{self.label}应为纳税信用级别 A、B、M、C、D 中的一个或几个，以逗号分隔，如 A,B。")
        return levels

    def normalised(self, text: object) -> str:
        return ",".join(self.parse(text))

    def shown(self, text: str) -> str:
        return "或".join(f"{level}级" for level in text.split(",") if level)


TOLERANCE = CitedParameter(
    "tolerance",
    "允许的金额差异",
    "元",
    "0.00",
    Kind.NUMBER,
    citation=f"{DOC_39} 第八条第（三）项；{DOC_7} 第一条：可退税额按规定公式计算，默认不容许差异",
)
ALLOWED_LEVELS = LevelsParameter(
    "levels",
    "允许的纳税信用级别",
    "",
    ",".join(DEFAULT_ALLOWED_LEVELS),
    citation="；".join(version.citation for version in reversed(CREDIT_LEVELS_ALLOWED.versions)),
)


# --- the checks --------------------------------------------------------------------------------------------
# ``ctx`` is refund's ``RiskContext``: application, stage, decision, figures (the rules now), now.

Values = Mapping[str, object]


def _money(value: Decimal | None) -> str | None:
    """An amount for the evidence's machine keys: plain ``1234.50``."""
    return None if value is None else f"{value:.2f}"


def _shown(value: Decimal | None) -> str | None:
    """An amount for the evidence's ``facts`` (shown to officers): ``1,234.50``; the label says 元."""
    return None if value is None else format_yuan(value)


def _level_text(level: str) -> str:
    return f"{level}级" if level else "未评价"


def _within(amount: Decimal | None, expected: Decimal | None, tolerance: Decimal) -> bool:
    return amount is not None and expected is not None and abs(amount - expected) <= tolerance


def check_recomputation(ctx, values: Values) -> dict | None:
    app, figures = ctx.application, ctx.figures
    tolerance = values["tolerance"]
    compared = ctx.compared_amount
    label = "申请退税额" if ctx.stage == ARRIVAL else "确认退税额"
    if figures.amount is None:
        return None  # the rules cannot assess it: ``computed_ineligible`` reports that
    if _within(compared, figures.amount, tolerance):
        return None
    if ctx.stage == APPROVAL and app.correction_reason and _within(app.computed_amount, figures.amount, tolerance):
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


def level_at(application: RefundApplication) -> str:
    """The level in force on the application's date as the ratings stand now ("" when unrated)."""
    on_date = application_date_for(application.application_period, application.received_on)
    return level_in_force(application.taxpayer_id, on_date)


def check_credit_level(ctx, values: Values) -> dict | None:
    app = ctx.application
    allowed = frozenset(values["levels"])
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


def compliance_baseline(ctx) -> tuple[dt.datetime | None, dt.date | None, str]:
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


def check_compliance(ctx, values: Values) -> dict | None:
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


def check_computed_ineligible(ctx, values: Values) -> dict | None:
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


# --- the checks as library entries and as the gate sees them -----------------------------------------------


@dataclass(frozen=True)
class GateCheck:
    """A gate check as the indicator library lists it (``code``: the library's ``APP_…`` code) and as the gate
    runs it (``gate_code``: the code its findings are stored under)."""

    code: str
    gate_code: str
    family: str
    title: str
    description: str
    parameters: tuple[CitedParameter, ...]
    evidence: tuple[tuple[str, str], ...]
    check: Callable[..., dict | None]
    severity: str = Severity.HIGH

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def defaults(self) -> dict[str, object]:
        return {p.name: p.parse(p.default) for p in self.parameters}

    def values_on(self, on_date: dt.date, period: Period | None = None) -> dict[str, object]:
        """The parameters in force on ``on_date`` (one query; none for a check without parameters). Before any
        version, the allowed levels follow the refund rules of the application ``period``."""
        if not self.parameters:
            return {}
        values = self.defaults
        if period is not None and "levels" in values and CREDIT_LEVELS_ALLOWED.covers(period):
            values["levels"] = tuple(sorted(CREDIT_LEVELS_ALLOWED.at(period)))
        seen: set[str] = set()
        versions = IndicatorParameterVersion.objects.filter(indicator_code=self.code, effective_from__lte=on_date)
        for version in versions.order_by("parameter", "-effective_from", "-id"):
            if version.parameter not in seen and version.parameter in values:
                seen.add(version.parameter)
                values[version.parameter] = self.parameter(version.parameter).parse(version.value)
        return values

    def run(self, ctx) -> dict | None:
        app = ctx.application
        on_date = application_date_for(app.application_period, app.received_on)
        return self.check(ctx, self.values_on(on_date, app.application_period))


@dataclass(frozen=True)
class _ForGate:
    """What refund's registry holds: the finding's code, its Chinese title, and ``run(context)``."""

    entry: GateCheck

    @property
    def code(self) -> str:
        return self.entry.gate_code

    @property
    def title(self) -> str:
        return self.entry.title

    def run(self, ctx) -> dict | None:
        return self.entry.run(ctx)


GATE_CHECKS: dict[str, GateCheck] = {
    entry.code: entry
    for entry in (
        GateCheck(
            code="APP_RECOMPUTE",
            gate_code="recomputation_mismatch",
            family=Family.POLICY,
            title="重算金额不一致",
            description="按现有数据重算的可退税额与申请退税额（受理时）或确认退税额（审批前）之差超过允许的差异。",
            parameters=(TOLERANCE,),
            evidence=(
                ("rules_amount", "重算可退税额"),
                ("compared_amount", "申请或确认退税额"),
                ("difference", "差额"),
            ),
            check=check_recomputation,
        ),
        GateCheck(
            code="APP_CREDIT_LEVEL",
            gate_code="credit_level",
            family=Family.CREDIT,
            title="纳税信用级别不符",
            description="申请日适用的纳税信用级别（申请时记录的与按现有评价记录的）不在允许的级别之内。",
            parameters=(ALLOWED_LEVELS,),
            evidence=(("level_at_submission", "申请时级别"), ("level_now", "当前级别"), ("allowed", "允许的级别")),
            check=check_credit_level,
        ),
        GateCheck(
            code="APP_COMPLIANCE",
            gate_code="compliance_changed",
            family=Family.ANOMALY,
            title="涉税合规记录变化",
            description="最近一次筛查（受理时）或受理（审批前）以来新增或发生的处罚、骗税认定、即征即退等记录，已核实的除外。",
            parameters=(),
            evidence=(("since_label", "比较起点"), ("records", "新增记录")),
            check=check_compliance,
        ),
        GateCheck(
            code="APP_INELIGIBLE",
            gate_code="computed_ineligible",
            family=Family.POLICY,
            title="规则判定不符合",
            description="按现有数据，退税规则判定不符合退税条件，或无法计算。",
            parameters=(),
            evidence=(("regime", "适用政策"), ("failed_conditions", "不符合的条件")),
            check=check_computed_ineligible,
        ),
    )
}
"""The gate checks as entries of the indicator library, by library code, in the gate's order."""

APPLICATION_CHECKS = [_ForGate(entry) for entry in GATE_CHECKS.values()]
"""What ``risk.apps`` registers with the applications' risk gate, in this order."""
