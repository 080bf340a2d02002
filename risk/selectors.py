"""Reads of the risk app: the parameter values and grade rules in force on a day, the indicator library with each
indicator's current values and history (the indicators that scans run, and the applications' gate checks), and a
scan's grades."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.http import Http404

from core.industry import sections
from core.money import format_yuan

from .application_checks import GATE_CHECKS, GateCheck
from .grading import DEFAULT_RULES, Rule
from .indicators import INDICATORS, Family, Indicator, Kind, Parameter
from .models import GradeRule, IndicatorParameterVersion, RiskGrade, RiskHit, ScanResult, Severity


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
