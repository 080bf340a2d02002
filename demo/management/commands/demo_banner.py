"""``python manage.py demo_banner``: where the demo runs and one login per role, read from the database.

``make demo`` prints it after ``seed_demo``. It shows what exists: for each role the first active
user of its group (the demo login when there is one), and the demo password only when that
user's password still is the demo password.
"""

import os
import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.roles import ROLES, RoleCode
from demo import county

DEFAULT_URL = f"http://127.0.0.1:{os.environ.get('DEMO_PORT', '8000')}/"  # the Makefile's DEMO_PORT


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(width - display_width(text), 0)


def logins_by_role() -> list[tuple[str, User | None, list[str]]]:
    """(role label, the login to show, other usernames of the role) for every role, in role order."""
    demo_order = {spec.username: n for n, spec in enumerate(county.demo_users(county.MAX_BRANCHES))}
    users = User.objects.filter(is_active=True, groups__name__in=[code.value for code in RoleCode])
    members: dict[str, list[User]] = {code.value: [] for code in RoleCode}
    for user in users.select_related("branch").prefetch_related("groups").order_by("username").distinct():
        for group in user.groups.all():
            if group.name in members:
                members[group.name].append(user)
    rows = []
    for code in RoleCode:
        found = sorted(members[code.value], key=lambda u: (demo_order.get(u.username, len(demo_order)), u.username))
        rows.append((ROLES[code].label, found[0] if found else None, [u.username for u in found[1:]]))
    return rows


class Command(BaseCommand):
    help = "打印演示环境的访问地址和各岗位的演示账号（从数据库读取）。"

    def add_arguments(self, parser):
        parser.add_argument("--url", default=DEFAULT_URL, help=f"访问地址（默认 {DEFAULT_URL}）")

    def handle(self, *args, **options):
        rows = logins_by_role()
        label_width = max(display_width(label) for label, _, _ in rows) + 2
        out = self.stdout.write
        rule = "=" * 72
        out(rule)
        out(f" 精简达 · {getattr(settings, 'BUREAU_NAME', county.BUREAU.name)}  演示环境")
        out(f" 访问地址：{options['url']}")
        out("-" * 72)
        out(f" {pad('岗位', label_width)}{pad('用户名', 12)}{pad('密码', 16)}姓名 / 所属机构")
        for label, user, others in rows:
            if user is None:
                out(f" {pad(label, label_width)}（尚无账号：请运行 python manage.py seed_demo）")
                continue
            password = county.DEMO_PASSWORD if user.check_password(county.DEMO_PASSWORD) else "（已修改）"
            line = f" {pad(label, label_width)}{pad(user.username, 12)}{pad(password, 16)}{user.full_name or '—'}"
            if user.branch:
                line += f" / {user.branch.name}"
            out(line)
            if others:
                shown = "、".join(others[:6]) + ("等" if len(others) > 6 else "")
                out(f" {pad('', label_width)}另有 {shown}")
        out("-" * 72)
        out(f" 演示密码 {county.DEMO_PASSWORD} 仅用于本机演示数据，请勿用于生产环境。")
        out(rule)
