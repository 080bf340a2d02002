"""Reads of the post-refund review (事后复核): the sample's parameters in force and their history, the population of
a month (the refunds paid in it, as the ledger holds them), and the samples and their rows as a user may see them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from accounts.scoping import scope_to_user
from core.periods import Period
from ledger.models import LedgerEntry

from ..models import MonthlySample, RiskHit, SampledRefund, SampleParameterVersion, Scan
from ..selectors import ParameterValue, value_text
from .draw import FOCUS, IMMEDIATE, LARGEST, RANDOM, Drawn, PaidRefund, draw, population_digest
from .parameters import PARAMETERS, rules_of

IMMEDIATE_INDICATOR = "POL_IMMEDIATE_REFUND"  # 享受即征即退等政策
REASON_LABELS = {FOCUS: "重点行业大额退税", IMMEDIATE: "有即征即退记录", LARGEST: "当月退税额最大", RANDOM: "随机抽取"}


def sample_parameters_in_force(on_date: dt.date) -> dict[str, ParameterValue]:
    """Each parameter on ``on_date``: the version of the latest ``effective_from`` on or before it (ties: the
    later row), else its default."""
    latest: dict[str, SampleParameterVersion] = {}
    for version in SampleParameterVersion.objects.filter(effective_from__lte=on_date).order_by(
        "parameter", "-effective_from", "-id"
    ):
        latest.setdefault(version.parameter, version)
    values = {}
    for parameter in PARAMETERS:
        version = latest.get(parameter.name)
        if version is None:
            values[parameter.name] = ParameterValue(parameter.default, parameter.parse(parameter.default), None, None)
        else:
            values[parameter.name] = ParameterValue(
                version.value, parameter.parse(version.value), version.pk, version.effective_from
            )
    return values


def sample_parameter_rows(on_date: dt.date) -> list[dict]:
    """The parameters page: each parameter's label, value in force (with unit), default and since when."""
    in_force = sample_parameters_in_force(on_date)
    return [
        {
            "name": p.name,
            "label": p.label,
            "value": value_text(p, in_force[p.name].text),
            "default": value_text(p, p.default),
            "since": in_force[p.name].effective_from,
        }
        for p in PARAMETERS
    ]


def sample_parameter_history() -> list[dict]:
    labels = {p.name: p for p in PARAMETERS}
    return [
        {
            "version": v,
            "label": labels[v.parameter].label if v.parameter in labels else v.parameter,
            "value": value_text(labels[v.parameter], v.value) if v.parameter in labels else v.value,
        }
        for v in SampleParameterVersion.objects.select_related("changed_by").order_by("-created_at", "-id")
    ]


def parameters_text(used: dict) -> list[str]:
    """The parameters a sample used, as officers read them: "label value（since）" each."""
    parts = []
    for parameter in PARAMETERS:
        value = (used or {}).get(parameter.name)
        if value is None:
            continue
        since = f"{value['effective_from']}起" if value.get("effective_from") else "默认"
        parts.append(f"{parameter.label} {value_text(parameter, value['value'])}（{since}）")
    return parts


@dataclass(frozen=True)
class PaidRow:
    """A refund paid in the month as the ledger holds it: what the draw reads and what the sample row copies."""

    refund: PaidRefund
    taxpayer_id: int
    branch_id: int
    identifier: str
    name: str
    paid_on: dt.date


def immediate_refund_taxpayers(scan: Scan | None) -> set[int]:
    """The taxpayers the month's scan of paid refunds found 即征即退 history on."""
    if scan is None:
        return set()
    hits = RiskHit.objects.filter(scan=scan, indicator_code=IMMEDIATE_INDICATOR)
    return set(hits.values_list("taxpayer_id", flat=True))


def paid_population(period: Period, *, scan: Scan | None) -> list[PaidRow]:
    """The refunds paid in ``period``: one row per application, its payments in the month added up (a reversing
    entry is not a payment), the taxpayer's figures as the latest of them recorded; in application order."""
    immediate = immediate_refund_taxpayers(scan)
    totals: dict[int, Decimal] = {}
    latest: dict[int, LedgerEntry] = {}
    entries = LedgerEntry.objects.filter(
        paid_on__gte=period.first_day, paid_on__lte=period.last_day, amount__gt=0
    ).order_by("paid_on", "id")
    for entry in entries.iterator(chunk_size=2000):
        totals[entry.application_id] = totals.get(entry.application_id, Decimal("0.00")) + entry.amount
        latest[entry.application_id] = entry
    rows = []
    for application_id in sorted(totals):
        entry = latest[application_id]
        refund = PaidRefund(application_id, totals[application_id], entry.industry_code, entry.taxpayer_id in immediate)
        rows.append(PaidRow(refund, entry.taxpayer_id, entry.branch_id, entry.identifier, entry.name, entry.paid_on))
    return rows


def sample_list() -> list[MonthlySample]:
    """Every month's sample, the latest month first (the page's readers see every branch's totals)."""
    return list(MonthlySample.objects.select_related("drawn_by", "scan").order_by("-period"))


def sample_get(period: str) -> MonthlySample:
    """The sample of a month (``2026-03``); 404 for a month without one."""
    try:
        return MonthlySample.objects.select_related("drawn_by", "scan").get(period=Period.typed(period))
    except (MonthlySample.DoesNotExist, ValueError):
        raise Http404 from None


def sample_rows_for_user(sample: MonthlySample, *, user):
    """A sample's refunds the user may see (their branch's only, for a branch-scoped reader), in draw order."""
    rows = SampledRefund.objects.filter(sample=sample).select_related("branch").order_by("position")
    return scope_to_user(rows, user=user)


def reason_labels(reasons: list[str]) -> list[str]:
    return [REASON_LABELS.get(reason, "其他") for reason in reasons]


def sample_redraw(sample: MonthlySample) -> tuple[str, list[Drawn]]:
    """Draw a month's sample again from what it recorded — its seed, its parameters and its scan's 即征即退 hits —
    over the month's refunds as the ledger holds them now; with the population's digest, equal to the recorded
    one when the ledger still holds what the sample was drawn from."""
    period = Period.typed(sample.period)
    population = [row.refund for row in paid_population(period, scan=sample.scan)]
    values = {p.name: p.parse(sample.parameters_used[p.name]["value"]) for p in PARAMETERS}
    return population_digest(population), draw(population, rules_of(values), sample.seed)
