"""An application's evidence in words: the lines an officer reads under a risk finding or a status change
(the checks' own ``facts``, each hit of a gate's return, else the known keys in Chinese) — never the stored codes.
"""

from __future__ import annotations

from core.money import format_yuan

from ..labels import regime_title
from .risk import risk_title

EVIDENCE_LABELS = {
    "previous_amount": "调整前确认退税额（元）",
    "confirmed_amount": "确认退税额（元）",
    "confirmed_incremental": "确认增量退税额（元）",
    "confirmed_stock": "确认存量退税额（元）",
    "computed_amount": "规则计算可退税额（元）",
    "claimed": "申请退税额（元）",
    "computed": "规则计算可退税额（元）",
    "corrected": "是否更正",
    "regime": "适用政策",
    "risk_hit": "疑点",
    "note": "核实要点",
    "paid_amount": "已退库金额（元）",
    "stopped_amount": "终止退库金额（元）",
}
"""The evidence keys shown, in Chinese; any other key is a machine field and is not shown."""


EVIDENCE_MONEY = frozenset(
    {
        "confirmed_amount",
        "confirmed_incremental",
        "confirmed_stock",
        "computed_amount",
        "claimed",
        "computed",
        "previous_amount",
        "paid_amount",
        "stopped_amount",
    }
)


def _evidence_value(key: str, value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in EVIDENCE_MONEY:
        return format_yuan(value)
    if key == "regime":
        return regime_title(str(value))
    if key == "risk_hit":
        return risk_title(str(value))
    return str(value)


def evidence_lines(evidence) -> list[tuple[str, str]]:
    """(label, value) lines of a finding's or a transition's evidence: the checks' own ``facts`` where they
    give them (the gate's registered checks), each hit of a gate's return (its check's Chinese title), else the
    known keys in Chinese — codes (a regime, a risk check) through their labels, never as they are stored."""
    if not isinstance(evidence, dict):
        return []
    if evidence.get("facts"):
        return [(str(label), "—" if value in (None, "") else str(value)) for label, value in evidence["facts"]]
    if evidence.get("hits"):
        lines = []
        for hit in evidence["hits"]:
            lines.append(("疑点", risk_title(str(hit.get("code", "")), str(hit.get("title") or ""))))
            lines.extend(evidence_lines(hit.get("evidence")))
        return lines
    return [
        (EVIDENCE_LABELS[key], _evidence_value(key, value)) for key, value in evidence.items() if key in EVIDENCE_LABELS
    ]
