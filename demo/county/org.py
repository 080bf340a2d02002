"""The demo county's organisation: the bureau, its sections and branches, and one demo login per role."""

from __future__ import annotations

from accounts.bulk import Login, OrgUnit

# Demo only: every demo login shares this password (printed by ``demo_banner``). Never use the demo users in
# production; ``seed_demo`` refuses to run on a database that has data.
DEMO_PASSWORD = "jjd-demo-2026"  # noqa: S105

BUREAU = OrgUnit("13305990000", "示范县税务局", "bureau", 0)
SECTIONS = (
    OrgUnit("13305990100", "税政一股", "section", 10, BUREAU.code),
    OrgUnit("13305990200", "纳税服务股", "section", 20, BUREAU.code),
    OrgUnit("13305990300", "风险管理股", "section", 30, BUREAU.code),
    OrgUnit("13305990400", "信息中心", "section", 40, BUREAU.code),
    OrgUnit("13305990600", "法制股", "section", 50, BUREAU.code),
)
_BRANCH_NAMES = (
    "城东税务分局",
    "城西税务分局",
    "城南税务分局",
    "城北税务分局",
    "经济开发区税务分局",
    "临港税务分局",
    "高新区税务分局",
    "东湖税务分局",
    "青山税务分局",
    "白塔税务分局",
)
DEVELOPMENT_ZONE_INDEX = 4  # 经济开发区: where most factories are
MAX_BRANCHES = 30


def branch_units(count: int) -> tuple[OrgUnit, ...]:
    """The 税源管理分局 of the demo county; the first five are 城东/城西/城南/城北/经济开发区."""
    if not 1 <= count <= MAX_BRANCHES:
        raise ValueError(f"branches must be between 1 and {MAX_BRANCHES}")
    units = []
    for k in range(count):
        name = _BRANCH_NAMES[k] if k < len(_BRANCH_NAMES) else f"第{k + 1}税务分局"
        units.append(OrgUnit(f"133059905{k + 1:02d}", name, "branch", 100 + k, BUREAU.code))
    return tuple(units)


def org_units(branches: int) -> tuple[OrgUnit, ...]:
    return (BUREAU, *SECTIONS, *branch_units(branches))


_BRANCH_OFFICER_NAMES = ("赵磊", "钱伟", "郑海燕", "冯涛", "何丽", "许斌", "邓洁", "曹阳", "彭辉", "曾倩")


def demo_users(branches: int) -> tuple[Login, ...]:
    """One memorable login per role (branch officers: one per branch), all with ``DEMO_PASSWORD``."""
    section = {unit.name: unit.code for unit in SECTIONS}
    users = [
        Login("refund", "refund_officer", section["税政一股"], "王立新", "13905710101"),
        *(
            Login(
                f"branch{k + 1}",
                "branch_officer",
                unit.code,
                _BRANCH_OFFICER_NAMES[k] if k < len(_BRANCH_OFFICER_NAMES) else f"分局专管员{k + 1}",
                f"139057102{k + 1:02d}",
            )
            for k, unit in enumerate(branch_units(branches))
        ),
        Login("service", "service_officer", section["纳税服务股"], "陈静", "13905710301"),
        Login("risk", "risk_officer", section["风险管理股"], "周敏", "13905710401"),
        # 纳税信用 is run by the 纳税服务股 in most county bureaus.
        Login("credit", "credit_officer", section["纳税服务股"], "吴婷", "13905710501"),
        # 法制岗: the legal section's reviewer in 集体会商.
        Login("legal", "legal_officer", section["法制股"], "林嘉", "13905710801"),
        Login("leader", "supervisor", BUREAU.code, "李建国", "13905710601"),
        Login("admin", "admin", section["信息中心"], "孙浩", "13905710701"),  # staff: the admin role
    ]
    return tuple(users)
