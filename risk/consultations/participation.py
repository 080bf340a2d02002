"""Who takes part in a 集体会商 and for which section, and whose opinion a decision needs. Reads only: the
services that invite participants and decide, and the pages, ask here."""

from __future__ import annotations

from accounts.roles import RoleCode

from ..models import Consultation, Section

REQUIRED_SECTIONS = (Section.LEGAL, Section.RISK)
"""The sections whose opinion a decision needs: 法制 and 风险."""


def section_for(user, application) -> str | None:
    """The section ``user`` may speak for in a consultation of ``application``: 法制岗 → 法制, 风险管理股 → 风险,
    税政一股 → 税政, an officer of the taxpayer's own branch → 分局; None for anyone else."""
    if not user.is_active:
        return None
    if user.has_role(RoleCode.LEGAL_OFFICER):
        return Section.LEGAL
    if user.has_role(RoleCode.RISK_OFFICER):
        return Section.RISK
    if user.has_role(RoleCode.REFUND_OFFICER):
        return Section.POLICY
    if user.has_role(RoleCode.BRANCH_OFFICER) and user.branch_id == application.branch_id:
        return Section.BRANCH
    return None


def missing_sections(consultation: Consultation) -> list[str]:
    """The Chinese names of the sections (法制, 风险) whose opinion the decision still waits for."""
    given = set(consultation.participants.exclude(opinion="").values_list("section", flat=True))
    return [Section(section).label for section in REQUIRED_SECTIONS if section not in given]
