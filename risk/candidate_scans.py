"""The risk library's scan of candidate lists before they are pushed (推送前风险扫描), as the lists ask for it
through refund's registry (``register_candidate_scanner``; refund never imports risk): every indicator on the
list's taxpayers as of its push date, hits and grades stored per list item with the parameter versions and grade rules
used (``risk_scan_candidates``). Refund flags the items graded 中 or 高 for the branch's pre-application check
(申请前调查) and shows the panel rendered here on the candidate's page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string

from .application_scans import hits_summary
from .selectors import candidate_grades, candidate_risk_panel
from .services import risk_scan_candidates


@dataclass(frozen=True)
class CandidateFlag:
    """What refund reads of an item's latest scan: the grade's value and Chinese name, and the hits in a few words."""

    grade: str
    label: str
    summary: str


class CandidateScanner:
    """Registered with refund's candidate lists by ``risk.apps``."""

    def scan(self, *, candidate_list, actor) -> None:
        """A push date's lists as of their push date; a 即时名单, pushed any day, as of the day it is pushed."""
        as_of = None if candidate_list.is_adhoc else candidate_list.push_date
        risk_scan_candidates(actor=actor, candidate_list=candidate_list, as_of=as_of)

    def flags(self, item_ids: list[int]) -> dict[int, CandidateFlag]:
        return {
            pk: CandidateFlag(result.grade, result.get_grade_display(), hits_summary(hits))
            for pk, (result, hits) in candidate_grades(item_ids).items()
        }

    def panel(self, item) -> str:
        return render_to_string("risk/candidate_panel.html", candidate_risk_panel(item.pk))


SCANNER = CandidateScanner()
