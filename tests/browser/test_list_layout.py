"""Every list fits an office screen: at 1366×768 no table is wider than its container.

The demo county is built by the demo's own commands (as ``tests/test_crawl.py`` builds it, smaller), then each
role signs in to real Chromium and opens every page of its left menu and the lists one level down (a screening
run's results, a candidate list's items, the 即时名单 among them, an SMS batch and its messages). A page fails when
the document scrolls sideways or when a table runs past the right edge of the box it sits in
(``.table-responsive`` hides the columns behind a scrollbar, which is the sideways scrolling officers complained
about). All offenders are reported at once.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management import call_command

from accounts.models import User
from accounts.roles import sync_role_groups
from demo.county import DEMO_PASSWORD
from notify.models import MessageTemplate
from notify.services import Recipient, sms_batch_create
from refund.applications.batch import applications_approve_batch
from refund.models import CandidateList, RefundApplication
from taxpayers.models import Taxpayer
from taxpayers.services import import_job_create, import_job_run

pytestmark = pytest.mark.django_db(transaction=True)  # committed data: the live server's thread reads it

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 17)  # a push date: lists, reminders and the morning's ledger all exist
ROLES = ("refund", "branch1", "service", "risk", "credit", "leader", "admin")
NOT_LISTS = ("/api/",)  # 接口文档: the API's own reference pages

# From a menu page, the list pages one level down: each step follows the first link matching its selector
# (on the page the previous step reached), and every page on the way is measured.
DEEPER = {
    "/refund/runs/": [("table a[href^='/refund/runs/']", "a[href*='/results/']")],
    "/refund/candidates/": [
        ("table tbody tr:nth-child(1) a[href^='/refund/candidates/']",),  # the first list (all branches, or 即时名单)
        ("table tbody tr:nth-child(2) a[href^='/refund/candidates/']",),  # the next (a branch's list)
        ("table tbody a[href^='/refund/candidates/']:text-matches('即时名单')",),  # 即时名单 (信用修复后符合条件)
    ],
    "/notify/batches/": [("table a[href^='/notify/batches/']", "a[href^='/notify/messages/?batch=']:not([href*='&'])")],
}

ADHOC = "即时名单 /refund/candidates/<adhoc>/"  # a candidate list's page like the others: told apart by its id
EVERY_LIST = (  # the menu's lists and the lists below them, as the test reaches them
    "/taxpayers/",
    "/taxpayers/imports/",
    "/refund/runs/",
    "/refund/candidates/",
    "/refund/candidates/mine/",
    "/refund/applications/",
    "/refund/applications/mine/",
    "/ledger/",
    "/ledger/unpaid/",
    "/ledger/runs/",
    "/notify/batches/",
    "/notify/messages/",
    "/notify/inbox/",
    "/accounts/audit/",
    "/accounts/users/",
    "/taxpayers/filing-deadlines/",
    "/refund/repair-notices/",
    "/refund/runs/<n>/results/",
    "/refund/runs/<n>/results/?eligible=yes",
    "/refund/candidates/<n>/",
    "/notify/batches/<n>/",
    "/notify/messages/?batch=<n>",
    ADHOC,
)

MEASURE = """() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) {
    problems.push(`页面可横向滚动：内容宽 ${doc.scrollWidth}px，窗口 ${doc.clientWidth}px`);
  }
  const main = document.querySelector("main");
  if (main && main.scrollWidth > main.clientWidth + 1) {
    problems.push(`主区域内容宽 ${main.scrollWidth}px，超出主区域 ${main.clientWidth}px`);
  }
  document.querySelectorAll("table").forEach((table, index) => {
    if (!visible(table)) return;
    const box = table.closest(".table-responsive") || table.parentElement;
    const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.innerText.trim()).filter(Boolean);
    const name = `表格${index + 1}（${heads.slice(0, 4).join("、")}${heads.length > 4 ? "…" : ""}）`;
    const right = table.getBoundingClientRect().right;
    const boxRight = box.getBoundingClientRect().right;
    if (box.scrollWidth > box.clientWidth + 1 || right > boxRight + 1) {
      problems.push(`${name}宽 ${Math.round(table.getBoundingClientRect().width)}px，容器 ${box.clientWidth}px`);
    }
    if (main && right > main.getBoundingClientRect().right + 1) {
      problems.push(`${name}右边缘超出主区域 ${Math.round(right - main.getBoundingClientRect().right)}px`);
    }
  });
  return problems;
}"""


def overflow_problems(page) -> list[str]:
    """What runs past the right edge on the page now open (empty when everything fits)."""
    return page.evaluate(MEASURE)


def menu_paths(page) -> list[str]:
    """The left menu's pages for the signed-in user, as site-local paths."""
    hrefs = page.locator("nav.app-menu a.menu-item").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [href for href in hrefs if href and not href.startswith(NOT_LISTS)]


def measure_role(page, base_url: str, username: str) -> tuple[dict[str, int], list[str]]:
    """Sign in as ``username``, open each menu page and the lists below it; returns the pages seen (with how many
    tables each shows) and the problems found."""
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    seen: dict[str, int] = {}
    problems: list[str] = []

    def visit(url: str) -> None:
        response = page.goto(f"{base_url}{url}")
        if url in seen:  # reached again on the way to a list below it
            return
        seen[url] = page.locator("main table").count()
        if response is None or response.status != 200:
            problems.append(f"{username} {url}: HTTP {response.status if response else '—'}")
            return
        problems.extend(f"{username} {url}: {problem}" for problem in overflow_problems(page))

    for path in menu_paths(page):
        visit(path)
        for chain in DEEPER.get(path, []):
            page.goto(f"{base_url}{path}")
            for selector in chain:
                link = page.locator(selector).first
                if not link.count():
                    break
                parts = urlsplit(link.get_attribute("href"))
                visit(f"{parts.path}?{parts.query}" if parts.query else parts.path)
                if parts.query and parts.path not in seen:  # the same list unfiltered
                    visit(parts.path)
                    page.go_back()
    return seen, problems


# Rows the data migrations seed, which an earlier transactional test's flush removed (each seed is idempotent).
SEEDS = (
    ("refund.migrations.0005_candidate_permissions", ("seed_reminder_template", "create_settings_row")),
    ("ledger.migrations.0004_bill_template", ("seed_bill_template",)),
    ("taxpayers.migrations.0003_seed_filing_deadlines", ("seed",)),
)


def restore_seeded_rows() -> None:
    sync_role_groups(group_model=Group, permission_model=Permission)
    for module, functions in SEEDS:
        migration = importlib.import_module(module)
        for name in functions:
            getattr(migration, name)(django_apps, None)


def morning_work() -> None:
    """What the demo leaves empty and officers fill by mid-morning: the reviewed applications approved (so that
    待退库 lists them with their payment forms), one SMS batch from the service section (短信批次) and one
    refused registry import (数据导入)."""
    refund_officer = User.objects.get(username="refund")
    reviewing = RefundApplication.objects.filter(state=RefundApplication.State.REVIEWING).order_by("id")
    applications_approve_batch(actor=refund_officer, applications=list(reviewing))
    template = MessageTemplate.objects.get(code="refund_candidate_reminder")
    taxpayers = Taxpayer.objects.exclude(legal_rep_mobile="").select_related("branch").order_by("id")[:30]
    recipients = [
        Recipient(
            t.legal_rep_mobile,
            {"taxpayer_name": t.name, "period": "2026年11月", "branch_name": t.branch.name},
            branch_id=t.branch_id,
        )
        for t in taxpayers
    ]
    sms_batch_create(
        actor=User.objects.get(username="service"),
        name="2026年11月留抵退税候选纳税人提醒（补充名单）",
        template=template,
        recipients=recipients,
        batch_key="list-layout",
    )
    upload = ContentFile(
        "纳税人识别号,纳税人名称\n91330106MA2XXXXX1,城东示范贸易有限公司\n".encode(),
        name="金三导出-纳税人登记信息-202611.csv",
    )
    job = import_job_create(actor=refund_officer, kind="taxpayers", uploaded_file=upload)
    import_job_run(job_id=job.pk)


@pytest.fixture
def demo_county(transactional_db):
    """A small demo county made by the demo's own commands (committed: the live server reads it)."""
    restore_seeded_rows()
    with time_machine.travel(dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI)):
        call_command("seed_demo", "--taxpayers=200", f"--today={TODAY}", "--replace", verbosity=0)
        call_command("demo_history", f"--today={TODAY}", verbosity=0)
        call_command("demo_credit", f"--today={TODAY}", verbosity=0)
        call_command("setup_schedules", verbosity=0)
        call_command("push_date_run", f"--date={TODAY}", verbosity=0)
    with time_machine.travel(dt.datetime(2026, 11, 17, 10, 0, tzinfo=SHANGHAI)):
        morning_work()


def test_every_list_of_every_role_fits_1366_by_768(demo_county, page, live_server):
    assert page.viewport_size == {"width": 1366, "height": 768}
    with_tables, problems = set(), []
    adhoc = CandidateList.objects.filter(kind=CandidateList.Kind.ADHOC).values_list("pk", flat=True).first()
    for username in ROLES:
        pages, found = measure_role(page, live_server.url, username)
        print(f"\n{username}: " + " ".join(f"{url}（{count}表）" for url, count in pages.items()))
        assert len(pages) >= 3, f"{username} reached only {pages}"
        with_tables.update(re.sub(r"(?<=[/=])\d+", "<n>", url) for url, count in pages.items() if count)
        if pages.get(f"/refund/candidates/{adhoc}/"):
            with_tables.add(ADHOC)
        problems.extend(found)
    # Every kind of list was reached with rows in it (the demo and the morning's work fill each one).
    problems.extend(f"{url}: not reached with a table" for url in EVERY_LIST if url not in with_tables)
    assert not problems, f"{len(problems)} problems at 1366×768:\n" + "\n".join(problems)
