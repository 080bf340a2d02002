"""Reads of the risk app: the parameter values and grade rules in force on a day, the indicator library with each
indicator's current values and history, and a scan's grades."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from core.industry import sections

from .grading import DEFAULT_RULES, Rule
from .indicators import INDICATORS, Family, Indicator, Kind, Parameter
from .models import GradeRule, IndicatorParameterVersion, RiskGrade, ScanResult, Severity


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
    for code, indicator in INDICATORS.items():
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
    return f"{text}{parameter.unit}" if parameter.unit else text


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator as the library page shows it: definition, values in force, and the history of edits."""

    indicator: Indicator
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
            }
            for p in self.indicator.parameters
        ]

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
    in_force = parameters_in_force(on_date)
    history: dict[str, list[IndicatorParameterVersion]] = {}
    for version in IndicatorParameterVersion.objects.select_related("changed_by").order_by("-created_at", "-id"):
        history.setdefault(version.indicator_code, []).append(version)
    return [IndicatorRow(ind, in_force[code], history.get(code, [])) for code, ind in INDICATORS.items()]


def indicator_row(code: str, on_date: dt.date) -> IndicatorRow:
    """One indicator of the library; 404 for a code it does not hold."""
    if code not in INDICATORS:
        raise Http404
    versions = list(
        IndicatorParameterVersion.objects.filter(indicator_code=code)
        .select_related("changed_by")
        .order_by("-created_at", "-id")
    )
    return IndicatorRow(INDICATORS[code], parameters_in_force(on_date)[code], versions)


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
