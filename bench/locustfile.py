"""Locust scenario for ``make bench`` (bench/load.py): the demo county's officers and supervisors at work.

    .venv/bin/locust -f bench/locustfile.py --headless --host http://127.0.0.1:PORT -u 50 -r 10 -t 3m

Loopback only: the host must be 127.0.0.1 (or localhost); any other is refused before a user starts.

Each user signs in through the real login form (CSRF token from the form) as a demo login — branch1…branch5,
refund, service, risk, credit, leader, admin, password ``demo.county.DEMO_PASSWORD`` — and then works the
pages its role works: an action is a short path through the pages (a list, filtered, then one row of it), with
5–15 s between actions and 1–3 s between the pages of one (``BENCH_THINK="5-15"``). The mix at 50 users:
20 branch officers (four per branch), 12 refund officers, 5 service, 4 risk, 2 credit, 4 supervisors, 3 admins.
Ids are never written here: every link followed (a run, a list, an application, a taxpayer, a page, a sort) is
read from the page before, and filters take their values from the page's filter form.

Every response must be exactly the expected one (200, or the login's redirect to 工作台); a redirect to the
login page, a 403/404 or a 5xx is a failure under the request's kind ("/refund/applications/[id]/").

The bench plays the bureau's TLS proxy itself: gunicorn speaks plain HTTP on the loopback, each request says
``X-Forwarded-Proto: https`` as the proxy does, and the session and CSRF cookies (Secure in production) are
kept and sent back as a browser does over that TLS connection.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import re
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import gevent
from locust import HttpUser, events
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.county import DEMO_PASSWORD

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


# Seconds an officer spends between two actions (reading, typing, a phone call): BENCH_THINK="5-15" by default.
# Between the pages of one action (a list, then a row of it) a fifth of that: the time to find the next link.
THINK = _think(os.environ.get("BENCH_THINK", "5-15"))
READ = (THINK[0] / 5, THINK[1] / 5)
IDENTIFIER = re.compile(r"^/(?:taxpayers|refund/taxpayers)/([0-9A-Z]{15,20})/$")


_numbering: defaultdict[type, itertools.count] = defaultdict(itertools.count)  # per kind of user: whose login


def _loopback(host: str | None) -> bool:
    return urlsplit(host or "").hostname in LOOPBACK


@events.init.add_listener
def _loopback_only(environment, **kwargs):
    if environment.host and not _loopback(environment.host):
        sys.exit(f"bench/locustfile.py drives a server on this machine only, not {environment.host}")


class Page(HTMLParser):
    """What a person could click or fill in on a page: links (with their text) and GET filter forms' selects."""

    def __init__(self, url: str, text: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[tuple[str, str]] = []  # (absolute path with query, link text)
        self.filter_forms: list[tuple[str, dict[str, list[str]]]] = []  # (action, select name -> option values)
        self.csrf_token = ""
        self._anchor: list | None = None
        self._form: tuple[str, dict] | None = None
        self._select: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") and not attrs["href"].startswith(("#", "javascript:")):
            self._anchor = [urljoin(self.url, attrs["href"]), ""]
        elif tag == "form" and (attrs.get("method") or "get").lower() == "get":
            self._form = (urljoin(self.url, attrs.get("action") or self.url).split("?")[0], {})
        elif tag == "select" and self._form is not None and attrs.get("name"):
            self._select = attrs["name"]
            self._form[1][self._select] = []
        elif tag == "option" and self._select and attrs.get("value"):
            self._form[1][self._select].append(attrs["value"])
        elif tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self.csrf_token = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor is not None:
            self.links.append((self._anchor[0], self._anchor[1].strip()))
            self._anchor = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            if self._form[1]:  # the top bar's search box has no select: not a filter bar
                self.filter_forms.append(self._form)
            self._form = None

    def handle_data(self, data):
        if self._anchor is not None:
            self._anchor[1] += data

    def paths(self, pattern: str) -> list[str]:
        """Links whose path (without query) matches ``pattern`` from its start, without duplicates."""
        regex = re.compile(pattern)
        return list(dict.fromkeys(url for url, _ in self.links if regex.fullmatch(urlsplit(url).path)))

    def query_links(self, key: str) -> list[str]:
        """Links back to this page's path that set ``key`` (page=…, sort=…) in their query."""
        path = urlsplit(self.url).path
        return [
            url for url, _ in dict.fromkeys(self.links)
            if urlsplit(url).path == path and re.search(rf"(?:^|&){key}=", urlsplit(url).query)
        ]  # fmt: skip

    def filtered(self, *, at_most: int = 2) -> str | None:
        """The page's filter form with one or two of its selects set to values offered there."""
        if not self.filter_forms:
            return None
        action, selects = self.filter_forms[0]
        offered = [(name, values) for name, values in selects.items() if values]
        if not offered:
            return None
        chosen = random.sample(offered, k=min(len(offered), random.randint(1, at_most)))
        return f"{action}?{urlencode({name: random.choice(values) for name, values in chosen})}"


class Officer(HttpUser):
    """A demo login at work; the subclasses say who and which pages, with how many of them at 50 users."""

    abstract = True
    usernames: tuple[str, ...] = ()
    pages_in_action = 0

    def wait_time(self) -> float:
        self.pages_in_action = 0  # what comes after the pause is a new action
        return random.uniform(*THINK)

    def on_start(self):
        if not _loopback(self.host):
            logging.error("bench/locustfile.py drives a server on this machine only, not %s", self.host)
            raise StopUser()
        self.username = self.usernames[next(_numbering[type(self)]) % len(self.usernames)]
        self.client.headers["X-Forwarded-Proto"] = "https"  # as the bureau's TLS proxy says
        self.origin = "https://" + urlsplit(self.host).netloc
        self.seen: dict[str, list[str]] = {"taxpayer": [], "name": []}
        login = self.open("/accounts/login/", "/accounts/login/")
        if login is None:
            raise StopUser()  # the failure is recorded under the login page
        with self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": login.csrf_token},
            headers={"Origin": self.origin, "Referer": f"{self.origin}/accounts/login/"},
            name="/accounts/login/ (sign in)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self._keep_cookies()
            if response.status_code == 302 and response.headers.get("Location") == "/":
                response.success()
            else:
                response.failure(f"sign-in as {self.username}: HTTP {response.status_code}, not the redirect to /")
                raise StopUser()
        self.open("/", "/")
        self.pages_in_action = 0

    def _keep_cookies(self):
        # Production cookies are Secure; over the proxy's TLS a browser sends them back, so the bench does too.
        for cookie in self.client.cookies:
            cookie.secure = False

    def open(self, url: str, name: str) -> Page | None:
        """GET one page; it must answer 200 (no redirect is followed: one to the login page is a failure)."""
        if self.pages_in_action:
            gevent.sleep(random.uniform(*READ))  # the officer reads the page before, then clicks
        self.pages_in_action += 1
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            self._keep_cookies()
            if response.status_code != 200:
                where = f" → {response.headers['Location']}" if response.headers.get("Location") else ""
                response.failure(f"HTTP {response.status_code}{where} for {url}")
                return None
            response.success()
            page = Page(url, response.text)
        for link, text in page.links:
            match = IDENTIFIER.match(urlsplit(link).path)
            if match:
                self._remember("taxpayer", match.group(1))
                if len(text) >= 4 and not text.isascii():
                    self._remember("name", text)
        return page

    def _remember(self, kind: str, value: str) -> None:
        values = self.seen[kind]
        if value not in values:
            values.append(value)
            del values[:-200]

    def follow(self, page: Page | None, pattern: str, name: str) -> Page | None:
        """Open one of the page's links whose path matches ``pattern`` (none there: nothing is requested)."""
        links = page.paths(pattern) if page else []
        return self.open(random.choice(links), name) if links else None

    def follow_query(self, page: Page | None, key: str, name: str) -> Page | None:
        links = page.query_links(key) if page else []
        return self.open(random.choice(links), name) if links else None

    def filter(self, page: Page | None, name: str) -> Page | None:
        url = page.filtered() if page else None
        return self.open(url, name) if url else None


# --- what officers do: each task is a short path through the pages, as one would click it --------------------


def workbench(user: Officer):
    user.open("/", "/")


def inbox(user: Officer):
    user.open("/notify/inbox/", "/notify/inbox/")


def taxpayers(user: Officer):
    """纳税人: search by a name fragment or a pasted identifier, turn a page or sort, open one."""
    listing = user.open("/taxpayers/", "/taxpayers/")
    names, identifiers = user.seen["name"], user.seen["taxpayer"]
    if names and random.random() < 0.6:
        name = random.choice(names)
        start = random.randrange(max(1, len(name) - 3))
        query = name[start : start + random.randint(2, 4)]
    elif identifiers:
        query = random.choice(identifiers)
    else:
        query = ""
    found = user.open(f"/taxpayers/?{urlencode({'q': query})}", "/taxpayers/?q=…") if query else None
    if not found or not found.paths(r"/taxpayers/[0-9A-Z]+/"):
        found = listing
    turned = user.follow_query(listing, "page", "/taxpayers/?page=…")
    if random.random() < 0.3:
        turned = user.filter(turned or listing, "/taxpayers/?filters") or turned
    user.follow(random.choice([p for p in (found, turned) if p]), r"/taxpayers/[0-9A-Z]{15,20}/", "/taxpayers/[id]/")


def screening(user: Officer):
    """筛查批次: the runs, a run's totals, its results with filters (from the totals' links or the filter bar)."""
    runs = user.open("/refund/runs/", "/refund/runs/")
    run = user.follow(runs, r"/refund/runs/\d+/", "/refund/runs/[id]/")
    if run is None:
        return
    if random.random() < 0.5:
        results = user.follow(run, r"/refund/runs/\d+/results/", "/refund/runs/[id]/results/?filters")
    else:
        results = user.open(urlsplit(run.url).path + "results/", "/refund/runs/[id]/results/")
        results = user.filter(results, "/refund/runs/[id]/results/?filters") or results
        if random.random() < 0.5:
            results = user.follow_query(results, "sort", "/refund/runs/[id]/results/?sort=…") or results
    if random.random() < 0.5:
        user.follow(results, r"/refund/runs/\d+/taxpayers/[0-9A-Z]+/", "/refund/runs/[id]/taxpayers/[id]/")


def candidate_lists(user: Officer):
    """候选名单: the push dates' lists, one list with a filter, one taxpayer on it."""
    lists = user.open("/refund/candidates/", "/refund/candidates/")
    one = user.follow(lists, r"/refund/candidates/\d+/", "/refund/candidates/[id]/")
    if one is not None and random.random() < 0.5:
        one = user.filter(one, "/refund/candidates/[id]/?filters") or one
    if random.random() < 0.5:
        user.follow(one, r"/refund/candidates/items/\d+/", "/refund/candidates/items/[id]/")


def my_candidates(user: Officer):
    """我的候选名单: the branch officer's worklist, then one item to verify or coach."""
    mine = user.open("/refund/candidates/mine/", "/refund/candidates/mine/")
    user.follow(mine, r"/refund/candidates/items/\d+/", "/refund/candidates/items/[id]/")


def application_queue(user: Officer):
    """申请队列: the queue, filtered from its filter bar, sorted by a column, a page further, one application."""
    queue = user.open("/refund/applications/", "/refund/applications/")
    if random.random() < 0.4:
        queue = user.open("/refund/applications/?state=all", "/refund/applications/?state=all") or queue
    filtered = user.filter(queue, "/refund/applications/?filters")
    sorted_ = user.follow_query(filtered or queue, "sort", "/refund/applications/?sort=…")
    paged = user.follow_query(sorted_ or queue, "page", "/refund/applications/?page=…")
    target = random.choice([p for p in (paged, sorted_, filtered, queue) if p] or [None])
    user.follow(target, r"/refund/applications/\d+/", "/refund/applications/[id]/")


def my_applications(user: Officer):
    """我的待办, sorted by due date or amount now and then, and the next application to work."""
    mine = user.open("/refund/applications/mine/", "/refund/applications/mine/")
    if random.random() < 0.3:
        mine = user.follow_query(mine, "sort", "/refund/applications/mine/?sort=…") or mine
    user.follow(mine, r"/refund/applications/\d+/", "/refund/applications/[id]/")


def application_detail(user: Officer):
    """An application across the whole queue (any state), as a reviewer or a supervisor looks one up."""
    queue = user.open("/refund/applications/?state=all", "/refund/applications/?state=all")
    queue = user.follow_query(queue, "page", "/refund/applications/?page=…") or queue
    user.follow(queue, r"/refund/applications/\d+/", "/refund/applications/[id]/")


def ledger(user: Officer):
    """台账: the entries, filtered or sorted, a page further."""
    entries = user.open("/ledger/", "/ledger/")
    entries = user.filter(entries, "/ledger/?filters") or entries
    if random.random() < 0.5:
        entries = user.follow_query(entries, "sort", "/ledger/?sort=…") or entries
    user.follow_query(entries, "page", "/ledger/?page=…")


def unpaid(user: Officer):
    """待退库: approved applications waiting for the treasury's payment."""
    user.open("/ledger/unpaid/", "/ledger/unpaid/")


def sms_records(user: Officer):
    """短信记录: filtered by status or template, sorted, a page further."""
    messages = user.open("/notify/messages/", "/notify/messages/")
    messages = user.filter(messages, "/notify/messages/?filters") or messages
    user.follow_query(messages, random.choice(["page", "sort"]), "/notify/messages/?page|sort=…")


def audit_log(user: Officer):
    """审计日志: by actor, verb or object type, sorted."""
    events_ = user.open("/accounts/audit/", "/accounts/audit/")
    events_ = user.filter(events_, "/accounts/audit/?filters") or events_
    user.follow_query(events_, random.choice(["page", "sort"]), "/accounts/audit/?page|sort=…")


# --- who: weights are the number of users of each kind at 50 users (locust spreads -u over them) ---------------


class BranchOfficer(Officer):
    weight = 20
    usernames = tuple(f"branch{k}" for k in range(1, 6))
    tasks = {
        my_candidates: 5, my_applications: 5, application_queue: 3, taxpayers: 4, candidate_lists: 2,
        screening: 2, ledger: 1, workbench: 2, inbox: 1,
    }  # fmt: skip


class RefundOfficer(Officer):
    weight = 12
    usernames = ("refund",)
    tasks = {
        application_queue: 5, application_detail: 3, my_applications: 2, screening: 3, candidate_lists: 2,
        ledger: 2, unpaid: 2, taxpayers: 2, sms_records: 1, workbench: 2, inbox: 1,
    }  # fmt: skip


class ServiceOfficer(Officer):
    weight = 5
    usernames = ("service",)
    tasks = {sms_records: 4, candidate_lists: 3, taxpayers: 2, ledger: 1, workbench: 1, inbox: 1}


class RiskOfficer(Officer):
    weight = 4
    usernames = ("risk",)
    tasks = {
        screening: 3, application_queue: 3, application_detail: 2, taxpayers: 2, candidate_lists: 1, ledger: 1,
        workbench: 1, inbox: 1,
    }  # fmt: skip


class CreditOfficer(Officer):
    weight = 2
    usernames = ("credit",)
    tasks = {taxpayers: 4, workbench: 2, inbox: 1}


class Supervisor(Officer):
    weight = 4
    usernames = ("leader",)
    tasks = {
        workbench: 3, audit_log: 3, application_queue: 2, application_detail: 1, ledger: 2, screening: 2,
        candidate_lists: 1, sms_records: 1, taxpayers: 1, inbox: 1,
    }  # fmt: skip


class Admin(Officer):
    weight = 3
    usernames = ("admin",)
    tasks = {audit_log: 3, workbench: 2, taxpayers: 2, sms_records: 1, screening: 1, inbox: 1}
