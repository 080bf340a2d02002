"""Every role, every page it can reach: no server error, no link to a refused page, no code on screen.

The demo county is built as ``make demo`` builds it (registry, returns since 2019, the history of applications,
payments and ledger runs, a push date with its lists and reminders), only smaller, so that the audit log, the
histories and the findings' evidence are the demo's own. Each role signs in and follows every link and htmx
request reachable from the home page, a few pages of each kind. A page fails when it answers 5xx, when a link on
it leads to a page the role is refused (403/404), or when its visible text shows what officers should never read:
a rule code, a snake_case key, a file path or English system text (the screen speaks the bureau's Chinese).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from tests.migration_rows import restore_migration_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 17)  # a push date: the day after the 16 November filing deadline
ROLES = ("refund", "branch1", "service", "risk", "legal", "credit", "leader", "admin")

# Not part of the officers' screens: Django's admin (the information centre's raw tables), the machine API and
# the files the pages link to.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/accounts/logout/")
PER_KIND = 2  # distinct URLs of one path pattern with the same query keys
PER_PATTERN = 10  # distinct URLs of one path pattern in all
MAX_PAGES = 400  # per role: a bound, not a target

# What must never be read on a page.
SNAKE_CASE = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
RULE_CODE = re.compile(r"\b[A-Z]{2}-\d{4}-[\w-]+")
FILE_PATH = re.compile(r"\b[\w-]+(?:/[\w.-]+)+\.(?:py|md|html|json|txt|sh|toml)\b|\b[a-z]+/[a-z_]+/")
SHELL = re.compile(r"manage\.py|python\s|\|\s*python")
ASCII_WORD = re.compile(r"[A-Za-z0-9_]+")
# A full identifier (15, 18 or 20 characters with digits) in a link: pages address taxpayers by record id.
FULL_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Z]*\d)[0-9A-Z]{15,20}(?![0-9A-Za-z])")
# Taxpayer identifiers, whole or masked (9133********WFHXB), are data, not words.
IDENTIFIER = re.compile(r"[0-9A-Z]*\*{3,}[0-9A-Z]*|\b[0-9A-Z]{15,20}\b")
# ASCII words a Chinese officer reads at work: formats, the SMS platform's name, standards.
ALLOWED_WORDS = {"xlsx", "csv", "Excel", "MAS", "GB", "UTF", "GBK", "YYYY", "MM", "DD"}


class _Page(HTMLParser):
    """Links and htmx requests, and the text a person sees (text nodes, tooltips, placeholders, button values)."""

    HIDDEN = {"script", "style", "template", "noscript"}
    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        self.texts.extend(attrs[name] for name in self.SHOWN_ATTRIBUTES if attrs.get(name))
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def visible_text_problems(texts: list[str], *, logins: frozenset[str] = frozenset()) -> list[str]:
    """What a person would read on the page that is not the bureau's Chinese. ``logins`` are the users' login
    names, which 用户与岗位 shows: data, like identifiers, not words."""
    login = re.compile(rf"(?<![\w-])(?:{'|'.join(map(re.escape, sorted(logins)))})(?![\w-])") if logins else None
    problems = []
    for text in texts:
        text = login.sub(" ", text) if login else text
        for pattern, what in (
            (RULE_CODE, "规则代码"),
            (SNAKE_CASE, "snake_case"),
            (FILE_PATH, "文件路径"),
            (SHELL, "命令"),
        ):
            problems.extend(f"{what}: {m.group(0)!r} in {text[:80]!r}" for m in pattern.finditer(text))
        for word in ASCII_WORD.findall(IDENTIFIER.sub(" ", text)):
            if word.isalpha() and len(word) >= 3 and word not in ALLOWED_WORDS:
                problems.append(f"English: {word!r} in {text[:80]!r}")
    return problems


def _pattern(path: str) -> str:
    """``/refund/applications/123/`` -> ``/refund/applications/<n>/``: pages of one kind share a pattern."""
    return re.sub(r"/(?:\d+|[0-9A-Z]{15,20}|[0-9a-f-]{32,36}|\d{4}-\d{2}(?:-\d{2})?)(?=/)", "/<n>", path)


def _local(href: str, base: str) -> str | None:
    """The site-local URL of a link (path and query), or None for what the crawl does not follow."""
    if href.startswith(("#", "mailto:", "javascript:", "tel:")):
        return None
    parts = urlsplit(href)
    if (parts.scheme or parts.netloc) and parts.netloc not in ("testserver", ""):
        return None
    path = parts.path or urlsplit(base).path
    if not path.startswith("/"):
        return None
    if path.startswith(SKIP_PREFIXES):
        return None
    return f"{path}?{parts.query}" if parts.query else path


def crawl(client: Client, start: str = "/", *, logins: frozenset[str] = frozenset()) -> tuple[int, list[str]]:
    """Breadth-first from ``start``; returns the number of pages fetched and the problems found."""
    seen: set[str] = {start}
    per_kind: Counter = Counter()
    per_pattern: Counter = Counter()
    queue: deque[tuple[str, str]] = deque([(start, "（首页）")])
    problems: list[str] = []
    fetched = 0
    while queue and fetched < MAX_PAGES:
        url, referrer = queue.popleft()
        response = client.get(url)
        fetched += 1
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code} (linked from {referrer})")
            continue
        if response.status_code in (403, 404):
            problems.append(f"{url}: {response.status_code}, a refused page linked from {referrer}")
            continue
        if response.status_code in (301, 302):
            targets = [response["Location"]]
        elif "text/html" in response.get("Content-Type", ""):
            page = _Page()
            page.feed(response.content.decode())
            problems.extend(f"{url}: {p}" for p in visible_text_problems(page.texts, logins=logins))
            targets = page.links
        else:
            continue  # an export or a download: its status is all the crawl judges
        for href in targets:
            if FULL_IDENTIFIER.search(href):
                problems.append(f"{url}: 链接中含完整识别号: {href!r}")
            target = _local(href, url)
            if target is None or target in seen:
                continue
            path, _, query = target.partition("?")
            pattern = _pattern(path)
            kind = (pattern, tuple(sorted({k for k, _ in parse_qsl(query)})))
            if per_kind[kind] >= PER_KIND or per_pattern[pattern] >= PER_PATTERN:
                continue
            per_kind[kind] += 1
            per_pattern[pattern] += 1
            seen.add(target)
            queue.append((target, url))
    return fetched, problems


@pytest.fixture(scope="module")
def demo_county(django_db_setup, django_db_blocker):
    """A small demo county made by the demo's own commands, committed for the module and flushed after it."""
    with django_db_blocker.unblock(), time_machine.travel(dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI)):
        call_command("seed_demo", "--taxpayers=400", f"--today={TODAY}", "--replace", verbosity=0)
        call_command("demo_history", f"--today={TODAY}", verbosity=0)
        call_command("setup_schedules", verbosity=0)
        call_command("push_date_run", f"--date={TODAY}", verbosity=0)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        restore_migration_rows()


@pytest.mark.parametrize("username", ROLES)
def test_every_reachable_page_of_a_role_is_ours_and_speaks_chinese(demo_county, db, username):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    with time_machine.travel(dt.datetime(2026, 11, 17, 10, 0, tzinfo=SHANGHAI)):
        fetched, problems = crawl(client, logins=frozenset(User.objects.values_list("username", flat=True)))
    print(f"\ncrawl {username}: {fetched} pages")
    assert fetched > 10, f"{username} reached only {fetched} pages"
    assert not problems, f"{username}: {len(problems)} problems\n" + "\n".join(_grouped(problems))


def _grouped(problems: list[str]) -> list[str]:
    """One line per distinct problem, with the first page that shows it and how many others do."""
    first: dict[str, str] = {}
    count: Counter = Counter()
    for problem in problems:
        url, _, what = problem.partition(": ")
        first.setdefault(what, url)
        count[what] += 1
    return [f"{what}  [{first[what]}, {count[what]} pages]" for what in first]


def test_the_text_checks_catch_what_they_are_for():
    """Each pattern fails on the kind of text issue 12 found, and passes the bureau's own words."""
    caught = visible_text_problems(
        [
            "2025年第7号公告第一类（CN-2025-7-class1）",
            "small_micro_after_2022 = six_month_test",
            "risk_hit：upstream_invoice",
            "（returns 中没有该所属期）",
            "默认值见 refund/rules/README.md",
            "python manage.py taxpayer_case 91330102 | python manage.py refund_assess -",
            "Forbidden",
        ]
    )
    kinds = " ".join(caught)
    expected = ("CN-2025-7-class1", "small_micro_after_2022", "risk_hit", "returns", "README", "manage", "Forbidden")
    for text in expected:
        assert text in kinds
    fine = ["期末留抵税额 13,645,125.29 元", "9144********38216", "导出 xlsx", "2026年11月"]
    assert visible_text_problems(fine) == []
    # A user's login name is data (用户与岗位 shows it); English around it is still caught.
    logins = frozenset({"admin", "leader", "officer_a"})
    assert visible_text_problems(["孙浩 admin", "leader", "（officer_a）"], logins=logins) == []
    assert visible_text_problems(["admin panel", "administrator"], logins=logins) == [
        "English: 'panel' in '  panel'",
        "English: 'administrator' in 'administrator'",
    ]
