"""The bureau's roles (岗位) and what each may do.

A role is a Django group whose name is the role's code; the data migration
``accounts.0002_roles`` creates them with these permissions. Branch scoping is
not a permission: it is decided in ``accounts.scoping`` from ``sees_all_branches``.
"""

from dataclasses import dataclass
from enum import StrEnum


class RoleCode(StrEnum):
    REFUND_OFFICER = "refund_officer"
    BRANCH_OFFICER = "branch_officer"
    SERVICE_OFFICER = "service_officer"
    RISK_OFFICER = "risk_officer"
    CREDIT_OFFICER = "credit_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Role:
    code: RoleCode
    label: str
    sees_all_branches: bool
    permissions: tuple[str, ...]


_TAXPAYER_READ = (
    "taxpayers.view_taxpayer",
    "taxpayers.view_vatreturn",
    "taxpayers.view_compliancerecord",
)
_CONTACTS = ("taxpayers.view_taxpayer_contacts",)
_IMPORTS = ("taxpayers.view_importjob", "taxpayers.add_importjob")
_AUDIT = ("accounts.view_auditevent",)

ROLES: dict[RoleCode, Role] = {
    role.code: role
    for role in (
        Role(RoleCode.REFUND_OFFICER, "税政一股（留抵退税）", True, _TAXPAYER_READ + _CONTACTS + _IMPORTS),
        Role(RoleCode.BRANCH_OFFICER, "税源管理分局", False, _TAXPAYER_READ + _CONTACTS),
        Role(RoleCode.SERVICE_OFFICER, "纳税服务股", True, _TAXPAYER_READ + _CONTACTS),
        Role(RoleCode.RISK_OFFICER, "风险管理股", True, (*_TAXPAYER_READ, "taxpayers.view_importjob")),
        Role(RoleCode.CREDIT_OFFICER, "纳税信用岗", True, _TAXPAYER_READ),
        Role(RoleCode.SUPERVISOR, "局领导", True, _TAXPAYER_READ + _AUDIT + ("taxpayers.view_importjob",)),
        Role(RoleCode.ADMIN, "信息中心（系统管理）", True, _TAXPAYER_READ + _CONTACTS + _IMPORTS + _AUDIT),
    )
}


def role_label(code: str) -> str:
    role = ROLES.get(code)  # type: ignore[call-overload]
    return role.label if role else code
