"""Setting up an organisation at once: the bureau's units and one login per person, as a fresh install needs them.

Why: a new database (the demo county, a training copy, a test stack) needs the bureau, its sections and
branches and a few logins before anyone can sign in to create more. The admin site does this one row at a time;
this is the bulk path, idempotent so that it can run on every start: a unit or login that exists is brought back
to the given values, never duplicated.

What holds, as everywhere else: a unit is a bureau, a section or a branch under a unit that exists; a login has
one of the roles of ``roles.RoleCode`` (its group must exist: the migrations create them) and is staff (may open
the admin site) exactly when it holds the administrator's role, as ``services.user_roles_change`` keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from core.errors import ApplicationError

from .models import Branch, User
from .roles import RoleCode


@dataclass(frozen=True)
class OrgUnit:
    code: str
    name: str
    kind: str  # Branch.Kind value: bureau / section / branch
    sort_order: int
    parent_code: str | None = None


@dataclass(frozen=True)
class Login:
    username: str
    role: str  # RoleCode value
    unit_code: str
    full_name: str
    mobile: str


def branches_ensure(*, units: Iterable[OrgUnit]) -> dict[str, Branch]:
    """Create or update ``units`` (parents before their children); the units by code."""
    saved: dict[str, Branch] = {}
    with transaction.atomic():
        for unit in units:
            if unit.kind not in Branch.Kind.values:
                raise ApplicationError(f"机构类型“{unit.kind}”无效。")
            parent = None
            if unit.parent_code:
                parent = saved.get(unit.parent_code) or Branch.objects.filter(code=unit.parent_code).first()
                if parent is None:
                    raise ApplicationError(f"机构 {unit.name} 的上级机构 {unit.parent_code} 不存在。")
            saved[unit.code], _ = Branch.objects.update_or_create(
                code=unit.code,
                defaults={"name": unit.name, "kind": unit.kind, "parent": parent, "sort_order": unit.sort_order},
            )
    return saved


def logins_ensure(*, logins: Iterable[Login], password: str) -> list[User]:
    """Create or update ``logins``, active, with ``password`` and exactly their role; the users in that order.

    The password is hashed once for them all (a salted PBKDF2 hash costs about a second of CPU, and the logins share
    one password that the demo prints anyway)."""
    logins = list(logins)
    hashed = make_password(password)
    groups = {group.name: group for group in Group.objects.filter(name__in={login.role for login in logins})}
    units = {unit.code: unit for unit in Branch.objects.filter(code__in={login.unit_code for login in logins})}
    users = []
    with transaction.atomic():
        for login in logins:
            if login.role not in RoleCode._value2member_map_ or login.role not in groups:
                raise ApplicationError(f"岗位“{login.role}”无效或尚未初始化，请先执行数据库迁移。")
            if login.unit_code not in units:
                raise ApplicationError(f"机构 {login.unit_code} 不存在。")
            user = User.objects.filter(username=login.username).first() or User(username=login.username)
            user.full_name = login.full_name
            user.branch = units[login.unit_code]
            user.mobile = login.mobile
            user.is_active = True
            user.is_staff = login.role == RoleCode.ADMIN or user.is_superuser
            user.password = hashed
            user.save()
            user.groups.set([groups[login.role]])
            users.append(user)
    return users
