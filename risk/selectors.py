"""Reads of the risk app: the parameter values and grade rules in force on a day, the indicator library with each
indicator's current values and history (the indicators that scans run, and the applications' gate checks), and a
scan's grades."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.http import Http404

from accounts.scoping import scope_to_user, visible_branch_ids
from core.industry import sections
from core.money import format_yuan

from .application_checks import GATE_CHECKS, GateCheck
from .grading import DEFAULT_RULES, Rule
from .indicators import INDICATORS, Family, Indicator, Kind, Parameter
from .models import GradeRule, IndicatorParameterVersion, RiskGrade, RiskHit, Scan, ScanResult, Severity


@dataclass(frozen=True)
class ParameterValue:
    """A parameter's value on a day: the version in force, or the default (``version_id`` None)."""

    text: str
    value: Decimal | tuple[str, ...]
    version_id: int | None
    effective_from: dt.date | None

    def as_json(self) -> dict:
        return {
            "value": self.text,
            "version_id": self.version_id,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
        }


def library() -> dict[str, Indicator | GateCheck]:
    """Every entry of the indicator library by code: the indicators, then the applications' gate checks."""
    return {**INDICATORS, **GATE_CHECKS}


def parameters_in_force(on_date: dt.date) -> dict[str, dict[str, ParameterValue]]:
    """Every indicator's parameters on ``on_date``: the version of the latest ``effective_from`` on or before it
    (ties: the later row), else the default written beside the indicator."""
    latest: dict[tuple[str, str], IndicatorParameterVersion] = {}
    versions = IndicatorParameterVersion.objects.filter(effective_from__lte=on_date).order_by(
        "indicator_code", "parameter", "-effective_from", "-id"
    )
    for version in versions:
        latest.setdefault((version.indicator_code, version.parameter), version)
    values: dict[str, dict[str, ParameterValue]] = {}
    for code, indicator in library().items():
        values[code] = {}
        for parameter in indicator.parameters:
            version = latest.get((code, parameter.name))
            if version is not None:
                values[code][parameter.name] = ParameterValue(
                    version.value, parameter.parse(version.value), version.pk, version.effective_from
                )
            else:
                values[code][parameter.name] = ParameterValue(
                    parameter.default, parameter.parse(parameter.default), None, None
                )
    return values


def grade_rules_in_force(on_date: dt.date) -> dict[str, Rule]:
    """The 中 and 高 rules on ``on_date``: the latest recorded version of each, else the default."""
    rules = dict(DEFAULT_RULES)
    for grade in (RiskGrade.MEDIUM, RiskGrade.HIGH):
        row = (
            GradeRule.objects.filter(grade=grade, effective_from__lte=on_date)
            .order_by("-effective_from", "-id")
            .first()
        )
        if row is not None:
            rules[grade] = Rule(
                grade,
                row.min_high_hits,
                row.min_medium_hits,
                row.min_total_hits,
                version_id=row.pk,
                effective_from=row.effective_from.isoformat(),
            )
    return rules


def value_text(parameter: Parameter, text: str) -> str:
    """A parameter's value as officers read it: a number with its unit, industry sections by their names."""
    if parameter.kind == Kind.SECTIONS:
        names = sections()
        return "、".join(f"{code} {names.get(code, '')}".strip() for code in text.split(",") if code)
    if hasattr(parameter, "shown"):  # a gate check's parameter says itself
        return parameter.shown(text)
    return f"{text}{parameter.unit}" if parameter.unit else text


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator as the library page shows it: definition, values in force, and the history of edits."""

    indicator: Indicator | GateCheck
    values: dict[str, ParameterValue]
    history: list[IndicatorParameterVersion]

    @property
    def family_label(self) -> str:
        return Family(self.indicator.family).label

    @property
    def severity_label(self) -> str:
        return Severity(self.indicator.severity).label

    @property
    def parameter_rows(self) -> list[dict]:
        """Each parameter: label, value in force (with unit), default, since when (None: the default holds)."""
        return [
            {
                "label": p.label,
                "value": value_text(p, self.values[p.name].text),
                "default": value_text(p, p.default),
                "since": self.values[p.name].effective_from,
                "citation": getattr(p, "citation", ""),
            }
            for p in self.indicator.parameters
        ]

    @property
    def has_citations(self) -> bool:
        return any(getattr(p, "citation", "") for p in self.indicator.parameters)

    @property
    def history_rows(self) -> list[dict]:
        labels = {p.name: p for p in self.indicator.parameters}
        return [
            {
                "version": v,
                "label": labels[v.parameter].label if v.parameter in labels else v.parameter,
                "value": value_text(labels[v.parameter], v.value) if v.parameter in labels else v.value,
            }
            for v in self.history
        ]


def indicator_library(on_date: dt.date) -> list[IndicatorRow]:
    """Every entry of the library (indicators, then gate checks) with its values in force and its history."""
    in_force = parameters_in_force(on_date)
    history: dict[str, list[IndicatorParameterVersion]] = {}
    for version in IndicatorParameterVersion.objects.select_related("changed_by").order_by("-created_at", "-id"):
        history.setdefault(version.indicator_code, []).append(version)
    return [IndicatorRow(ind, in_force[code], history.get(code, [])) for code, ind in library().items()]


def indicator_row(code: str, on_date: dt.date) -> IndicatorRow:
    """One indicator of the library; 404 for a code it does not hold."""
    entries = library()
    if code not in entries:
        raise Http404
    versions = list(
        IndicatorParameterVersion.objects.filter(indicator_code=code)
        .select_related("changed_by")
        .order_by("-created_at", "-id")
    )
    return IndicatorRow(entries[code], parameters_in_force(on_date)[code], versions)


def grade_rule_history() -> list[GradeRule]:
    return list(GradeRule.objects.select_related("changed_by").order_by("-created_at", "-id"))


def application_grade(application_id: int) -> ScanResult | None:
    """The grade of the latest succeeded scan of one application (None: never scanned)."""
    return (
        ScanResult.objects.filter(application_id=application_id, scan__status="succeeded")
        .select_related("scan")
        .order_by("-scan__started_at", "-scan_id")
        .first()
    )


def _parameters_text(code: str, used: dict) -> list[str]:
    """The parameters a scan used for one indicator, as officers read them: "label value（since）" each."""
    entry = library().get(code)
    if entry is None:
        return []
    parts = []
    for parameter in entry.parameters:
        value = (used or {}).get(parameter.name)
        if value is None:
            continue
        since = f"{value['effective_from']}起" if value.get("effective_from") else "默认"
        parts.append(f"{parameter.label} {value_text(parameter, value['value'])}（{since}）")
    return parts


def _figure(label: str, value) -> str:
    """An evidence figure as shown: amounts in yuan with thousands separators, the rest as stored."""
    if value in (None, ""):
        return "—"
    if "元" in label:
        try:
            return format_yuan(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            pass
    return str(value)


def evidence_lines(code: str, evidence: dict) -> list[tuple[str, str]]:
    indicator = INDICATORS.get(code)
    labels = indicator.evidence if indicator is not None else tuple((key, key) for key in evidence)
    return [(label, _figure(label, evidence.get(key))) for key, label in labels]


def application_risk_panel(application_id: int, *, scan_id: int | None = None) -> dict:
    """The application page's risk panel: the scans of the application (latest first, each with its grade) and the
    latest one's hits (or those of scan ``scan_id``, the one a consultation weighed) with their evidence and the
    parameter versions used. The page is already scoped."""
    return _risk_panel(scan_id=scan_id, application_id=application_id)


def candidate_risk_panel(item_id: int) -> dict:
    """The candidate page's risk panel (推送前风险扫描): as the application's, for a candidate list item."""
    return _risk_panel(candidate_item_id=item_id)


def _risk_panel(*, scan_id: int | None = None, **subject) -> dict:
    results = list(
        ScanResult.objects.filter(scan__status="succeeded", **subject)
        .select_related("scan")
        .order_by("-scan__started_at", "-scan_id")
    )
    latest = results[0] if results else None
    if scan_id is not None:
        latest = next((result for result in results if result.scan_id == scan_id), latest)
    hits = []
    if latest is not None:
        used = latest.scan.parameters_used or {}
        for hit in RiskHit.objects.filter(scan_id=latest.scan_id, **subject):
            indicator = INDICATORS.get(hit.indicator_code)
            hits.append(
                {
                    "id": hit.pk,
                    "code": hit.indicator_code,
                    "title": indicator.title if indicator else "风险疑点",
                    "family": Family(indicator.family).label if indicator else "—",
                    "severity": hit.get_severity_display(),
                    "severity_value": hit.severity,
                    "evidence": evidence_lines(hit.indicator_code, hit.evidence or {}),
                    "parameters": _parameters_text(hit.indicator_code, used.get(hit.indicator_code)),
                }
            )
        order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
        hits.sort(key=lambda h: (order.get(h["severity_value"], 3), h["code"]))
    return {"latest": latest, "hits": hits, "results": results}


def candidate_grades(item_ids: list[int]) -> dict[int, tuple[ScanResult, list[RiskHit]]]:
    """For each candidate item scanned, the grade of its latest succeeded scan and that scan's hits on it."""
    latest: dict[int, ScanResult] = {}
    results = (
        ScanResult.objects.filter(candidate_item_id__in=item_ids, scan__status="succeeded")
        .order_by("candidate_item_id", "-scan__started_at", "-scan_id")
        .only("candidate_item_id", "grade", "scan_id")
    )
    for result in results:
        latest.setdefault(result.candidate_item_id, result)
    hits: dict[int, list[RiskHit]] = {pk: [] for pk in latest}
    scans = {result.scan_id for result in latest.values()}
    for hit in RiskHit.objects.filter(candidate_item_id__in=list(latest), scan_id__in=scans):
        if latest[hit.candidate_item_id].scan_id == hit.scan_id:
            hits[hit.candidate_item_id].append(hit)
    return {pk: (result, hits[pk]) for pk, result in latest.items()}


# --- scans and their hits, as officers see them -------------------------------------------------------------

SEVERITY_ORDER = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)
HIT_FILTERS = ("family", "severity", "indicator", "branch", "q")


def scans_for_user(*, user, kind: str = "") -> QuerySet[Scan]:
    """The scans ``user`` may see, newest first: every scan of all taxpayers, and (for a branch) the scans of
    applications or candidate lists that graded one of the branch's taxpayers. ``kind`` filters."""
    scans = Scan.objects.select_related("started_by").order_by("-started_at", "-id")
    if kind in Scan.Kind.values:
        scans = scans.filter(kind=kind)
    branch_ids = visible_branch_ids(user)
    if branch_ids is not None:
        own = ScanResult.objects.filter(scan_id=OuterRef("pk"), taxpayer__branch_id__in=branch_ids)
        scans = scans.filter(Q(kind=Scan.Kind.ALL) | Exists(own))
    return scans


def scan_for_user(*, user, pk: int) -> Scan:
    """One scan the user may see; 404 otherwise."""
    scan = scans_for_user(user=user).filter(pk=pk).first()
    if scan is None:
        raise Http404("scan not found or outside the user's scope")
    return scan


def scan_figures(*, user, scans: list[Scan]) -> dict[int, dict]:
    """Per scan: hits, and taxpayers graded 高 and 中 — the whole bureau's (as stored) for a user who sees every
    branch, the user's branches' otherwise."""
    branch_ids = visible_branch_ids(user)
    if branch_ids is None:
        return {s.pk: {"hits": s.hit_count, "high": s.high_count, "medium": s.medium_count} for s in scans}
    ids = [s.pk for s in scans]
    figures = {pk: {"hits": 0, "high": 0, "medium": 0} for pk in ids}
    hits = RiskHit.objects.filter(scan_id__in=ids, taxpayer__branch_id__in=branch_ids)
    for row in hits.values("scan_id").annotate(n=Count("id")).order_by():
        figures[row["scan_id"]]["hits"] = row["n"]
    results = ScanResult.objects.filter(
        scan_id__in=ids, taxpayer__branch_id__in=branch_ids, grade__in=(RiskGrade.HIGH, RiskGrade.MEDIUM)
    )
    for row in results.values("scan_id", "grade").annotate(n=Count("id")).order_by():
        figures[row["scan_id"]][row["grade"]] = row["n"]
    return figures


def _family_codes(family: str) -> list[str]:
    return [code for code, indicator in INDICATORS.items() if indicator.family == family]


def scan_hits(*, user, scan: Scan, filters: Mapping | None = None) -> QuerySet[RiskHit]:
    """The scan's hits within the user's branches, the most serious first; ``family``, ``severity``, ``indicator``,
    ``branch`` (an id) and ``q`` (name or identifier) filter. An unknown value filters nothing out."""
    hits = scope_to_user(
        RiskHit.objects.filter(scan=scan).select_related("taxpayer", "taxpayer__branch"),
        user=user,
        branch_field="taxpayer__branch",
    )
    filters = filters or {}
    family, severity = str(filters.get("family") or ""), str(filters.get("severity") or "")
    indicator, branch = str(filters.get("indicator") or ""), str(filters.get("branch") or "")
    query = str(filters.get("q") or "").strip()
    if family in Family.values:
        hits = hits.filter(indicator_code__in=_family_codes(family))
    if severity in Severity.values:
        hits = hits.filter(severity=severity)
    if indicator in INDICATORS:
        hits = hits.filter(indicator_code=indicator)
    if branch.isdigit():
        hits = hits.filter(taxpayer__branch_id=int(branch))
    if query:
        hits = hits.filter(Q(taxpayer__name__icontains=query) | Q(taxpayer__identifier__istartswith=query))
    rank = Case(
        *(When(severity=value, then=Value(i)) for i, value in enumerate(SEVERITY_ORDER)),
        default=Value(len(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )
    return hits.annotate(severity_rank=rank).order_by("severity_rank", "taxpayer_id", "indicator_code")


@dataclass(frozen=True)
class HitRow:
    """A hit as the lists show it: the indicator's title and family, its severity, the evidence in words."""

    hit: RiskHit
    title: str
    family: str
    evidence: list[tuple[str, str]]

    @property
    def evidence_text(self) -> str:
        return "；".join(f"{label}：{value}" for label, value in self.evidence)


def hit_row(hit: RiskHit) -> HitRow:
    indicator = INDICATORS.get(hit.indicator_code)
    return HitRow(
        hit,
        indicator.title if indicator else "风险疑点",
        Family(indicator.family).label if indicator else "—",
        evidence_lines(hit.indicator_code, hit.evidence or {}),
    )


@dataclass(frozen=True)
class HitMatrix:
    """Hits by family (rows) and severity (columns), each with its count; ``totals`` per severity and ``total``."""

    rows: list[dict]
    totals: list[tuple[str, str, int]]
    total: int


def hit_matrix(*, user, scan: Scan) -> HitMatrix:
    """The scan's hits within the user's branches counted by family and severity (one grouped query)."""
    counts: dict[tuple[str, str], int] = {}
    hits = scope_to_user(RiskHit.objects.filter(scan=scan), user=user, branch_field="taxpayer__branch")
    for row in hits.values("indicator_code", "severity").annotate(n=Count("id")).order_by():
        indicator = INDICATORS.get(row["indicator_code"])
        if indicator is not None:
            key = (indicator.family, row["severity"])
            counts[key] = counts.get(key, 0) + row["n"]
    rows = []
    for family, label in Family.choices:
        cells = [(severity, counts.get((family, severity), 0)) for severity in SEVERITY_ORDER]
        rows.append({"family": family, "label": label, "cells": cells, "total": sum(n for _, n in cells)})
    totals = [(s, Severity(s).label, sum(counts.get((f, s), 0) for f in Family.values)) for s in SEVERITY_ORDER]
    return HitMatrix(rows, totals, sum(n for _, _, n in totals))


def latest_full_scan() -> Scan | None:
    """The latest finished scan of all taxpayers (what the 工作台 shows)."""
    return (
        Scan.objects.filter(kind=Scan.Kind.ALL, status=Scan.Status.SUCCEEDED)
        .select_related("started_by")
        .order_by("-as_of", "-started_at", "-id")
        .first()
    )


HIT_RATE_MONTHS = 12


def indicator_hit_rate_by_month(code: str, *, months: int = HIT_RATE_MONTHS) -> list[dict]:
    """命中率 by month of the scans' day, the latest ``months`` months with a finished scan, newest first: the
    taxpayers the scans read (a taxpayer scanned twice in a month counts twice), the indicator's hits in them,
    and the rate in % (two places; None without taxpayers)."""
    finished = Scan.objects.filter(status=Scan.Status.SUCCEEDED)
    scanned = (
        finished.annotate(month=TruncMonth("as_of"))
        .values("month")
        .annotate(taxpayers=Sum("taxpayer_count"), scans=Count("id"))
        .order_by("-month")[:months]
    )
    rows = [dict(row) for row in scanned]
    if not rows:
        return []
    hits = (
        RiskHit.objects.filter(
            indicator_code=code, scan__status=Scan.Status.SUCCEEDED, scan__as_of__gte=rows[-1]["month"]
        )
        .annotate(month=TruncMonth("scan__as_of"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_month = {_month_of(row["month"]): row["n"] for row in hits}
    for row in rows:
        row["month"] = _month_of(row["month"])
        row["hits"] = by_month.get(row["month"], 0)
        row["rate"] = (
            (Decimal(100) * row["hits"] / row["taxpayers"]).quantize(Decimal("0.01")) if row["taxpayers"] else None
        )
    return rows


def _month_of(value) -> dt.date:
    """TruncMonth gives a date (or, on some backends, a datetime): the first day of the month as a date."""
    return value.date() if isinstance(value, dt.datetime) else value
