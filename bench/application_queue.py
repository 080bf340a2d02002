"""Queue page benchmark on PostgreSQL (issue 6): 100,000 refund applications, then the server time of 我的待办.

    DATABASE_URL=postgres://… .venv/bin/python bench/application_queue.py [--applications 100000] [--requests 20]

Builds the data with set-based SQL, tagged so it can be removed (first, and at the end unless ``--keep``):
taxpayers whose identifier starts with QBENCH over ten branches coded QBENCH01…, four applications each in
distinct months since 2022-01 — most paid, some rejected or approved, and the latest one of three in four
taxpayers still open in the last 30 days (received / investigating / reviewing / returned, about half of
them past their due date) — and two users, a refund officer (all branches) and a branch officer of
QBENCH01. Then it renders ``refund:application_queue`` in-process through ``django.test.Client`` signed in
as each user (DEBUG off): the default filters, a filtered query (state + branch + overdue), page 1 and a
deep page sorted by age. Each scenario is requested twice to warm up, then ``--requests`` times: it prints
the median and p95 milliseconds (server time: middleware, session, view, template — no network) and the
number of SQL queries of one request. Target: under 150 ms at 100,000 applications.

The query parameters are the queue's filter names (``--state-param``, ``--overdue-param``, ``--sort`` …
override them if the view names them otherwise).
"""

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and "queue" would shadow the standard library's
# (which concurrent.futures imports): drop the folder, put the project root in its place.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")  # DEBUG keeps every query in memory and renders debug pages

import django  # noqa: E402

django.setup()
logging.getLogger("axes").setLevel(logging.WARNING)  # one line per force_login otherwise

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Branch, User  # noqa: E402
from accounts.roles import RoleCode  # noqa: E402
from credit.rules.parameters import evaluation_date  # noqa: E402
from credit.services import credit_ratings_bulk_write  # noqa: E402
from taxpayers.models import Taxpayer  # noqa: E402

TAG = "QBENCH"
BRANCHES = 10
USERS = {"refund": ("qbench_refund", RoleCode.REFUND_OFFICER), "branch": ("qbench_branch", RoleCode.BRANCH_OFFICER)}
TARGET_MS = 150.0


def _sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def _clean() -> None:
    branches = f"SELECT id FROM accounts_branch WHERE code LIKE '{TAG}%%'"
    _sql(f"DELETE FROM refund_applicationtransition WHERE application_id IN "
         f"(SELECT id FROM refund_refundapplication WHERE branch_id IN ({branches}))")  # fmt: skip
    _sql(f"DELETE FROM refund_refundapplication WHERE branch_id IN ({branches})")
    _sql(f"DELETE FROM credit_creditrating WHERE taxpayer_id IN "
         f"(SELECT id FROM taxpayers_taxpayer WHERE identifier LIKE '{TAG}%%')")  # fmt: skip
    _sql(f"DELETE FROM taxpayers_taxpayer WHERE identifier LIKE '{TAG}%%'")
    User.objects.filter(username__in=[name for name, _ in USERS.values()]).delete()
    _sql(f"DELETE FROM accounts_branch WHERE code LIKE '{TAG}%%'")


def _build(applications: int) -> dict:
    _clean()
    bureau = Branch.objects.filter(kind=Branch.Kind.BUREAU).first()
    branches = [
        Branch.objects.create(code=f"{TAG}{k:02d}", name=f"压测{k}分局", kind=Branch.Kind.BRANCH, parent=bureau,
                              sort_order=900 + k)
        for k in range(1, BRANCHES + 1)
    ]  # fmt: skip
    taxpayers = max(1, math.ceil(applications / 4))
    _sql(
        f"""
        INSERT INTO taxpayers_taxpayer (identifier, name, branch_id, status, industry_code, registered_on,
            general_taxpayer_since, filing_frequency, legal_rep_name, legal_rep_mobile, finance_contact_name,
            finance_contact_mobile, tax_handler_name, tax_handler_mobile, size, size_industry,
            is_export_enterprise, is_key_taxpayer, created_at, updated_at)
        SELECT '{TAG}' || lpad(i::text, 12, '0'), '压测企业' || i, (%s::bigint[])[1 + i %% {BRANCHES}], 'normal',
            (ARRAY['C3411', 'E4710', 'F5123', 'I6510'])[1 + i %% 4], DATE '2015-01-01', DATE '2015-06-01',
            'monthly', '', '', '', '', '', '',
            (ARRAY['micro', 'small', 'medium', 'large'])[1 + i %% 4], '', false, false, now(), now()
        FROM generate_series(1, %s) AS i
        """,
        [[branch.pk for branch in branches], taxpayers],
    )
    # One rating a taxpayer (A, B, B, M in turn), the 2024 year in force from 2025-04-01, through credit's bulk path.
    ids = Taxpayer.objects.filter(identifier__startswith=TAG).order_by("pk").values_list("pk", flat=True)
    credit_ratings_bulk_write(
        ratings=((pk, 2024, "ABBM"[pk % 4], evaluation_date(2024), None) for pk in ids.iterator(chunk_size=5000))
    )
    today = timezone.localdate()
    # Slot s (0..3) of taxpayer t lands in months [14s, 14s + 13] after 2022-01: never two in one period.
    # Slot 3 of three taxpayers in four is instead open, received in the last 30 days.
    inserted = _sql(
        """
        WITH t AS (
            SELECT id AS taxpayer_id, branch_id, row_number() OVER (ORDER BY id) AS n
            FROM taxpayers_taxpayer WHERE identifier LIKE %s
        ), a AS (
            SELECT t.taxpayer_id, t.branch_id, t.n, s, (t.n * 4 + s) AS i,
                (s = 3 AND t.n %% 4 <> 0) AS open,
                CASE WHEN s = 3 AND t.n %% 4 <> 0 THEN %s::date - (t.n %% 30)::int
                     ELSE (DATE '2022-01-01' + make_interval(months => (s * 14 + (t.n * 7) %% 14)::int))::date
                          + (t.n %% 20)::int END AS received_on
            FROM t, generate_series(0, 3) AS s
        ), b AS (
            SELECT a.*,
                CASE WHEN open THEN (ARRAY['received', 'investigating', 'reviewing', 'returned'])[1 + n %% 4]
                     WHEN (i * 48271) %% 100 < 4 THEN 'rejected'
                     WHEN (i * 48271) %% 100 < 5 THEN 'approved'
                     ELSE 'paid' END AS state,
                (10000 + (i * 7919) %% 5000000)::numeric(16, 2) AS amount
            FROM a
            ORDER BY i
            LIMIT %s
        )
        INSERT INTO refund_refundapplication (taxpayer_id, branch_id, application_period, kind, source,
            document_number, received_on, received_at, due_on, claimed_amount, credit_level_at_submission, regime,
            size, industry_code, computed_eligible, computed_amount, computed_incremental, computed_stock,
            computed_at, inputs_snapshot, result_snapshot, confirmed_amount, confirmed_incremental, confirmed_stock,
            correction_reason, confirmed_at, state, state_changed_at, risk_status, risk_checked_at, approved_at,
            decision_reason, paid_on, paid_amount, paid_incremental, paid_stock, updated_at)
        SELECT taxpayer_id, branch_id, to_char(received_on, 'YYYY-MM'),
            (ARRAY['incremental', 'stock', 'both', 'incremental'])[1 + i %% 4], 'import',
            'QBENCH' || lpad(i::text, 12, '0'), received_on, received_on + TIME '09:30', received_on + 14, amount,
            'B', (ARRAY['CN-2022-14-industry', 'CN-2022-14-small-micro', 'CN-2025-7-class1'])[1 + i %% 3],
            (ARRAY['micro', 'small', 'medium', 'large'])[1 + n %% 4], 'C3411', true, amount, amount, 0,
            received_on + TIME '09:31', '{}'::jsonb, '{}'::jsonb,
            CASE WHEN state IN ('reviewing', 'approved', 'paid') THEN amount END,
            CASE WHEN state IN ('reviewing', 'approved', 'paid') THEN amount END,
            CASE WHEN state IN ('reviewing', 'approved', 'paid') THEN 0 END, '',
            CASE WHEN state IN ('reviewing', 'approved', 'paid') THEN received_on + TIME '14:00' END,
            state, received_on + TIME '15:00', CASE WHEN state = 'returned' THEN 'hit' ELSE 'clear' END,
            received_on + TIME '09:32',
            CASE WHEN state IN ('approved', 'paid') THEN received_on + 3 + TIME '10:00' END,
            CASE WHEN state IN ('returned', 'rejected') THEN '压测' ELSE '' END,
            CASE WHEN state = 'paid' THEN received_on + 6 END, CASE WHEN state = 'paid' THEN amount END,
            CASE WHEN state = 'paid' THEN amount END, CASE WHEN state = 'paid' THEN 0 END, now()
        FROM b
        """,
        [f"{TAG}%", today, applications],
    )
    # What autovacuum does to a live table: the visibility map lets the queue's count and id page use
    # index-only scans.
    _sql("VACUUM ANALYZE taxpayers_taxpayer")
    _sql("VACUUM ANALYZE refund_refundapplication")
    users = {}
    for key, (username, role) in USERS.items():
        user = User.objects.create_user(username=username, password=None, full_name=f"压测{key}")
        user.branch = branches[0] if role == RoleCode.BRANCH_OFFICER else bureau
        user.save()
        user.groups.add(Group.objects.get(name=role.value))
        users[key] = user
    return {"applications": inserted, "taxpayers": taxpayers, "branch": branches[0], "users": users}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _measure(client: Client, url: str, requests: int) -> dict:
    for _ in range(2):
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {"median": statistics.median(times), "p95": _percentile(times, 0.95), "queries": len(queries),
            "bytes": len(response.content)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per scenario (default 20)")
    parser.add_argument("--deep-page", type=int, default=200, help="the deep page's number (default 200)")
    parser.add_argument("--state-param", default="state")
    parser.add_argument("--state", default="reviewing", help="state of the filtered query (default reviewing)")
    parser.add_argument("--branch-param", default="branch")
    parser.add_argument("--overdue-param", default="overdue")
    parser.add_argument("--overdue-value", default="1")
    parser.add_argument("--sort-param", default="sort")
    parser.add_argument("--sort", default="age", help="the sort value for oldest first (default age)")
    parser.add_argument("--keep", action="store_true", help="leave the data in the database (to study plans)")
    parser.add_argument("--reuse", action="store_true", help="measure the data a --keep run left (no build)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/application_queue.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    try:
        url = reverse("refund:application_queue")
    except NoReverseMatch:
        raise SystemExit("refund:application_queue does not exist on this branch yet (the queue view).") from None

    started = time.perf_counter()
    if args.reuse:
        users = {key: User.objects.get(username=name) for key, (name, _) in USERS.items()}
        data = {"applications": 0, "branch": Branch.objects.get(code=f"{TAG}01"), "users": users}
    else:
        data = _build(args.applications)
    build = time.perf_counter() - started
    total = _total_applications()
    print(f"applications in the database: {total:,} ({data['applications']:,} built in {build:.1f} s)")

    branch = data["branch"].code  # the lists filter by branch code
    sort = f"{args.sort_param}={args.sort}"
    filtered = (f"{args.state_param}={args.state}&{args.branch_param}={branch}"
                f"&{args.overdue_param}={args.overdue_value}")  # fmt: skip
    scenarios = [
        ("default filters", ""),
        ("state + branch + overdue", f"?{filtered}"),
        ("sorted by age, page 1", f"?{sort}"),
        (f"sorted by age, page {args.deep_page}", f"?{sort}&page={args.deep_page}"),
        ("filtered, sorted by age", f"?{filtered}&{sort}"),
    ]
    worst = 0.0
    print(f"{'user':<16}{'scenario':<30}{'median ms':>10}{'p95 ms':>9}{'queries':>9}{'KiB':>7}")
    for key, user in data["users"].items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for label, query in scenarios:
            figures = _measure(client, url + query, args.requests)
            worst = max(worst, figures["median"])
            print(f"{key + ' officer':<16}{label:<30}{figures['median']:>10.1f}{figures['p95']:>9.1f}"
                  f"{figures['queries']:>9}{figures['bytes'] / 1024:>7.0f}")  # fmt: skip
    verdict = "under" if worst < TARGET_MS else "OVER"
    print(f"worst median {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target at {total:,} applications")
    if not args.keep:
        _clean()


def _total_applications() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM refund_refundapplication")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
