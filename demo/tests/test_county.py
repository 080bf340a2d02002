"""The demo county: deterministic, valid, realistic in its mix, loaded alike by every loader, and
every demo login works through the real login page."""

import datetime as dt
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, Branch, User
from accounts.roles import ROLES, RoleCode
from core.periods import Period
from credit.models import CreditRating
from credit.selectors import with_latest_level
from demo import county, seeding
from demo.county import ratings
from taxpayers import bulk
from taxpayers.models import INPUT_TAX_FIELDS, RETURN_AMOUNT_FIELDS, ComplianceRecord, Taxpayer, VatReturn
from taxpayers.validators import (
    taxpayer_id_warnings,
    validate_industry_code,
    validate_mobile,
    validate_taxpayer_id,
)

TODAY = dt.date(2025, 6, 10)  # pinned: "last month" is 2025-05, not the real one
LAST = "2025-05"
PARAMS = county.DemoParams(taxpayers=300, seed=11, today=TODAY)
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


@pytest.fixture(scope="module")
def items() -> list[county.DemoTaxpayer]:
    return list(county.generate(PARAMS))


def fingerprint(items):
    return [
        (i.taxpayer["identifier"], i.taxpayer["name"], i.ratings, tuple(i.returns), str(i.compliance)) for i in items
    ]


def idx(period: str) -> int:
    year, month = map(int, period.split("-"))
    return county.month_index(year, month)


def returns_by_index(item):
    return {idx(r.period): r for r in item.returns}


# --- the generator (no database) -------------------------------------------------------------


def test_same_seed_gives_the_same_county_and_another_seed_another():
    params = county.DemoParams(taxpayers=120, seed=5, today=TODAY)
    first = fingerprint(county.generate(params))
    assert first == fingerprint(county.generate(params))
    # A smaller run is the start of a larger one.
    assert fingerprint(county.generate(county.DemoParams(taxpayers=40, seed=5, today=TODAY))) == first[:40]

    other = fingerprint(county.generate(county.DemoParams(taxpayers=120, seed=6, today=TODAY)))
    assert {row[0] for row in other}.isdisjoint({row[0] for row in first})
    assert [row[3] for row in other] != [row[3] for row in first]


def test_identifiers_mobiles_and_industry_codes_are_valid(items):
    identifiers = [item.taxpayer["identifier"] for item in items]
    assert len(set(identifiers)) == len(items)
    assert len({item.taxpayer["name"] for item in items}) == len(items)
    for item in items:
        tp = item.taxpayer
        assert validate_taxpayer_id(tp["identifier"]) == tp["identifier"]
        assert taxpayer_id_warnings(tp["identifier"]) == []  # the embedded GB 11714 code passes too
        assert tp["identifier"][2:8] in county.REGION_CODES
        assert validate_industry_code(tp["industry_code"]) == tp["industry_code"]
        for role in ("legal_rep", "finance_contact", "tax_handler"):
            if tp[f"{role}_name"]:
                assert validate_mobile(tp[f"{role}_mobile"]) == tp[f"{role}_mobile"]
                assert 2 <= len(tp[f"{role}_name"]) <= 3
            else:
                assert tp[f"{role}_mobile"] == ""
        assert tp["legal_rep_name"]
        assert tp["name"].endswith(("有限公司", "经营部", "商行", "店", "专业合作社"))
        for code in {code for r in item.returns for code in r.sales_by_industry}:
            assert validate_industry_code(code) == code
    for spec in county.demo_users(5):
        assert validate_mobile(spec.mobile) == spec.mobile


def test_returns_cover_2019_03_to_last_month_and_add_up(items):
    first = idx("2019-03")
    for item in items:
        tp, periods = item.taxpayer, [r.period for r in item.returns]
        start = max(first, county.month_index(tp["general_taxpayer_since"].year, tp["general_taxpayer_since"].month))
        if tp["status"] == "normal" and tp["filing_frequency"] == "monthly":
            assert periods == [county.period_text(i) for i in range(start, idx(LAST) + 1)]
        if tp["filing_frequency"] == "quarterly":
            assert all(p[5:] in ("03", "06", "09", "12") for p in periods)
            if tp["status"] == "normal":
                assert periods[-1] == "2025-03"
        previous = None
        for r in item.returns:
            assert all(getattr(r, name) >= 0 for name in RETURN_AMOUNT_FIELDS), r
            assert dt.date(int(r.period[:4]), int(r.period[5:]), 28) < r.filed_on <= TODAY
            if r.sales_by_industry:
                assert sum(r.sales_by_industry.values()) == r.sales_total
            input_total = sum(getattr(r, name) for name in INPUT_TAX_FIELDS)
            if previous is not None and not tp["is_export_enterprise"]:
                # 期末留抵 = 上期留抵 − 留抵退税 + 进项 − 转出 − 销项 + 应纳税额 (exports: 免抵退 aside)
                expected = (
                    previous - r.credit_refunded + input_total - r.input_transferred_out - r.output_tax + r.tax_payable
                )
                assert r.end_credit == expected, (tp["identifier"], r.period)
            assert not (r.end_credit and r.tax_payable)
            previous = r.end_credit


def test_the_mix_looks_like_a_county(items):
    n = len(items)
    ratings = Counter(item.credit_level for item in items)
    assert 0.55 <= ratings["B"] / n <= 0.85
    assert 0.05 <= ratings["A"] / n <= 0.25
    assert min(ratings["M"], ratings["C"], ratings["D"]) >= 1
    sections = Counter(item.taxpayer["industry_code"][0] for item in items)
    assert 0.25 <= sections["C"] / n <= 0.55  # manufacturing
    assert len(sections) >= 10
    branches = Counter(item.taxpayer["branch_code"] for item in items)
    assert set(branches) == {unit.code for unit in county.branch_units(5)}
    assert min(branches.values()) >= n * 0.1
    assert max(branches, key=branches.get) == county.branch_units(5)[county.DEVELOPMENT_ZONE_INDEX].code
    sizes = Counter(item.taxpayer["size"] for item in items)
    assert sizes["small"] > sizes["medium"] > sizes["micro"] > 0
    quarterly = sum(item.taxpayer["filing_frequency"] == "quarterly" for item in items)
    assert 0 < quarterly <= n * 0.05
    kinds = Counter(record["kind"] for item in items for record in item.compliance)
    assert kinds["evasion_penalty"] >= 5 and kinds["immediate_refund"] >= 1
    assert sum(any(r.sales_by_industry for r in item.returns) for item in items) >= 3
    assert sum(item.taxpayer["industry_code"] == "K7010" for item in items) >= 3


def test_ratings_since_2019_drift_and_end_at_the_level_generated(items):
    last_year = county.credit_year(TODAY)
    histories = [item.ratings for item in items if item.ratings[1]]
    assert len(histories) >= len(items) * 0.9
    for first_year, levels in histories:
        assert first_year >= 2019 and first_year + len(levels) - 1 == last_year
        assert set(levels) <= set("ABMCD") and "DA" not in levels  # a D year bars an A the year after
    assert sum(len(set(levels)) == 1 for _, levels in histories) >= len(histories) * 0.4  # mostly stable
    changed = sum(len(set(levels)) > 1 for _, levels in histories)
    assert changed >= len(histories) * 0.1
    assert sum(levels.startswith("M") and len(levels) > 1 for _, levels in histories) >= 1  # new, then rated
    assert sum("D" in levels for _, levels in histories) >= 1
    # A refund received (a return with 本期留抵退税额) fell in a year rated A or B, the latest year aside.
    for item in items:
        first_year, levels = item.ratings
        for row in item.returns:
            year = ratings.year_in_force(row.period)
            if row.credit_refunded > 0 and first_year <= year < last_year:
                assert levels[year - first_year] in "AB", (item.taxpayer["identifier"], row.period)


def test_plausible_shares_fit_each_refund_regime(items):
    """The shapes the regimes look for, counted on the returns (the rules themselves live in refund/)."""
    n, last, base_period = len(items), idx(LAST), idx("2019-03")
    six = range(last - 5, last + 1)

    def shape_39(item) -> bool:  # 2019 No.39 / 2025 No.7 class 2: six months over the 2019-03 base, 500,000
        rets = returns_by_index(item)
        base = rets[base_period].end_credit if base_period in rets else 0
        return all(i in rets and rets[i].end_credit > base for i in six) and (
            rets[last].end_credit - base >= 50_000_000
        )

    def shape_class3(item) -> bool:  # 2025 No.7 class 3: six positive months, 500,000 over last year-end
        rets = returns_by_index(item)
        year_end = rets.get(county.month_index(TODAY.year - 1, 12))
        return all(i in rets and rets[i].end_credit > 0 for i in six) and (
            rets[last].end_credit - (year_end.end_credit if year_end else 0) >= 50_000_000
        )

    def last_credit(item) -> int:
        return item.returns[-1].end_credit if item.returns else 0

    assert 3 <= sum(map(shape_39, items)) <= n * 0.3
    assert 3 <= sum(map(shape_class3, items)) <= n * 0.3
    manufacturing_with_credit = sum(
        item.taxpayer["industry_code"][0] == "C" and last_credit(item) > 0 for item in items
    )
    assert n * 0.05 <= manufacturing_with_credit <= n * 0.4
    stock = sum(returns_by_index(item).get(base_period, None) is not None
                and returns_by_index(item)[base_period].end_credit > 0 for item in items)  # fmt: skip
    assert stock >= n * 0.05
    developers = [item for item in items if item.taxpayer["industry_code"] == "K7010"]
    assert any(max(r.end_credit for r in item.returns) >= 50_000_000 for item in developers)
    assert sum(last_credit(item) == 0 for item in items) >= n * 0.4  # ordinary payers
    assert sum(r.credit_refunded > 0 for item in items for r in item.returns) >= 5  # refunds taken before


def test_enterprise_size_follows_the_2011_300_ladders():
    wan = 1_000_000  # fen in 10,000 yuan
    assert county.enterprise_size("construction", 6400 * wan, 4700 * wan) == "small"  # the STA example
    assert county.enterprise_size("industry", 2000 * wan, 0) == "medium"
    assert county.enterprise_size("industry", 299 * wan, 0) == "micro"
    assert county.enterprise_size("retail", 20000 * wan, 0) == "large"
    assert county.enterprise_size("other", 99 * wan, 10**12) == "micro"


def test_every_role_has_a_demo_login():
    specs = county.demo_users(5)
    assert {spec.role for spec in specs} == {code.value for code in RoleCode}
    assert len({spec.username for spec in specs}) == len(specs)
    assert [spec.username for spec in specs if spec.role == "branch_officer"] == [f"branch{k}" for k in range(1, 6)]


# --- loading ---------------------------------------------------------------------------------


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_loads_the_county(items):
    output = seed("--taxpayers=300", "--seed=11", "--today=2025-06-10")

    assert Taxpayer.objects.count() == 300
    assert VatReturn.objects.count() == sum(len(item.returns) for item in items)
    assert ComplianceRecord.objects.count() == sum(len(item.compliance) for item in items)
    assert "纳税人 300 户" in output and "秒" in output
    if connection.vendor == "postgresql":
        assert "COPY 导入" in output
    periods = VatReturn.objects.aggregate(first=Min("period"), last=Max("period"))
    assert periods == {"first": Period(2019, 3), "last": Period.parse(LAST)}
    assert set(Taxpayer.objects.values_list("identifier", flat=True)) == {i.taxpayer["identifier"] for i in items}

    kinds = Counter(Branch.objects.values_list("kind", flat=True))
    assert kinds == {"bureau": 1, "section": 5, "branch": 5}
    assert not Taxpayer.objects.exclude(branch__kind="branch").exists()

    # One return, field by field, as generated.
    item = next(i for i in items if any(r.sales_by_industry for r in i.returns))
    row = next(r for r in item.returns if r.sales_by_industry)
    stored = VatReturn.objects.get(taxpayer__identifier=item.taxpayer["identifier"], period=row.period)
    for name in RETURN_AMOUNT_FIELDS:
        assert getattr(stored, name) == bulk.fen_to_decimal(getattr(row, name)), name
    assert stored.filed_on == row.filed_on
    assert stored.sales_by_industry == {code: bulk.fen_to_text(fen) for code, fen in row.sales_by_industry.items()}
    taxpayer = stored.taxpayer
    assert taxpayer.prev_year_vat_sales == bulk.fen_to_decimal(item.taxpayer["prev_year_vat_sales"])
    assert taxpayer.name == item.taxpayer["name"]
    assert taxpayer.legal_rep_mobile == item.taxpayer["legal_rep_mobile"]
    assert AuditEvent.objects.filter(verb="demo_seeded", summary__contains="纳税人 300 户").count() == 1

    # The ratings: one a year, each in force from 1 April after its year, the latest the level generated.
    assert CreditRating.objects.count() == sum(len(item.ratings[1]) for item in items)
    assert f"纳税信用评价结果 {CreditRating.objects.count():,} 条" in output
    for rating in CreditRating.objects.all()[:50]:
        assert rating.evaluated_on == dt.date(rating.year + 1, 4, 1) and rating.basis == "evaluated"
    latest = dict(with_latest_level(Taxpayer.objects.all()).values_list("identifier", "credit_level"))
    assert latest == {item.taxpayer["identifier"]: item.credit_level for item in items}


@pytest.mark.django_db
def test_every_demo_login_works_through_the_login_page():
    seed("--taxpayers=20", "--today=2025-06-10")
    for code in RoleCode:
        assert User.objects.filter(groups__name=code.value, is_active=True).exists(), code
    for spec in county.demo_users(5):
        client = Client()
        response = client.post(reverse("accounts:login"), {"username": spec.username, "password": county.DEMO_PASSWORD})
        assert response.status_code == 302, spec.username
        assert client.get("/").status_code == 200
        user = User.objects.get(username=spec.username)
        assert user.branch.code == spec.unit_code and user.full_name == spec.full_name
    assert User.objects.get(username="branch3").branch.name == "城南税务分局"
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser
    assert client.get("/admin/").status_code == 200  # the last client is signed in as admin
    assert not User.objects.filter(username="refund", is_staff=True).exists()
    wrong = Client().post(reverse("accounts:login"), {"username": "refund", "password": "not-the-password"})
    assert wrong.status_code == 200  # the form again, with its error


def snapshot() -> dict:
    """What the loaders must agree on: every taxpayer, every record, and the sums of every amount."""
    # fmt: off
    return {
        "taxpayers": list(
            Taxpayer.objects.order_by("identifier").values_list(
                "identifier", "name", "branch__code", "status", "industry_code", "registered_on",
                "general_taxpayer_since", "filing_frequency", "legal_rep_mobile", "finance_contact_name",
                "tax_handler_mobile", "size", "size_industry", "employees",
                "prev_year_vat_sales", "prev_year_months_operated", "total_assets_prev_year_end",
                "is_export_enterprise", "is_key_taxpayer",
            )
        ),
        "returns": VatReturn.objects.aggregate(
            Count("id"), Min("period"), Max("period"), Min("filed_on"), Max("filed_on"),
            *(Sum(name) for name in RETURN_AMOUNT_FIELDS),
        ),
        "by_taxpayer": list(
            VatReturn.objects.values("taxpayer__identifier")
            .annotate(n=Count("id"), credit=Sum("end_credit"), sales=Sum("sales_total"))
            .order_by("taxpayer__identifier")
        ),
        "multi": list(
            VatReturn.objects.exclude(sales_by_industry={})
            .order_by("taxpayer__identifier", "period")
            .values_list("taxpayer__identifier", "period", "sales_by_industry", "end_credit")
        ),
        "records": list(
            ComplianceRecord.objects.order_by("taxpayer__identifier", "document_number").values_list(
                "taxpayer__identifier", "kind", "occurred_on", "document_number", "amount", "note"
            )
        ),
        "ratings": list(
            CreditRating.objects.order_by("taxpayer__identifier", "year").values_list(
                "taxpayer__identifier", "year", "level", "evaluated_on", "basis"
            )
        ),
    }
    # fmt: on


@postgresql_only
@pytest.mark.django_db
def test_copy_executemany_and_bulk_create_store_the_same_data(monkeypatch):
    assert bulk.default_method() == "copy"
    monkeypatch.setattr(bulk, "CHUNK_TAXPAYERS", 35)  # several chunks, ids across them
    params = county.DemoParams(taxpayers=100, seed=3, today=TODAY)
    snapshots = {}
    for method in ("copy", "executemany", "bulk_create"):
        result = seeding.seed_demo_county(params, method=method)
        assert (result.method, result.taxpayers) == (method, 100)
        snapshots[method] = snapshot()
        seeding.delete_demo_data()
        assert not VatReturn.objects.exists()
    assert snapshots["copy"]["returns"]["id__count"] > 5000
    assert snapshots["copy"]["multi"] and snapshots["copy"]["records"]
    assert snapshots["copy"]["returns"]["end_credit__sum"] > Decimal("0")
    assert snapshots["copy"] == snapshots["executemany"]
    assert snapshots["copy"] == snapshots["bulk_create"]


@pytest.mark.django_db
def test_if_empty_skips_replace_reseeds_and_otherwise_refuses():
    seed("--taxpayers=30", "--seed=1", "--today=2025-06-10")
    identifiers = set(Taxpayer.objects.values_list("identifier", flat=True))
    returns = VatReturn.objects.count()

    output = seed("--if-empty", "--taxpayers=30", "--seed=2", "--today=2025-06-10")
    assert "跳过" in output
    assert set(Taxpayer.objects.values_list("identifier", flat=True)) == identifiers
    assert VatReturn.objects.count() == returns
    assert AuditEvent.objects.filter(verb="demo_seeded").count() == 1

    with pytest.raises(CommandError, match="--if-empty"):
        seed("--taxpayers=30", "--today=2025-06-10")

    output = seed("--replace", "--taxpayers=25", "--seed=2", "--today=2025-06-10")
    assert "已删除" in output
    assert Taxpayer.objects.count() == 25
    assert set(Taxpayer.objects.values_list("identifier", flat=True)).isdisjoint(identifiers)
    assert VatReturn.objects.count() == sum(
        len(i.returns) for i in county.generate(county.DemoParams(taxpayers=25, seed=2, today=TODAY))
    )
    assert User.objects.filter(username__in=[s.username for s in county.demo_users(5)]).count() == 12


@pytest.mark.django_db
def test_seed_demo_options():
    seed("--taxpayers=15", "--branches=7", "--today=2025-06-10")
    assert Branch.objects.filter(kind="branch").count() == 7
    assert User.objects.filter(groups__name="branch_officer").count() == 7
    assert User.objects.get(username="branch7").branch.name == "高新区税务分局"
    with pytest.raises(CommandError, match="--today"):
        seed("--replace", "--today=2019-02-01")
    with pytest.raises(CommandError, match="--today"):
        seed("--replace", "--today=2025-13-01")
    with pytest.raises(CommandError, match="--branches"):
        seed("--replace", "--branches=0")


@pytest.mark.django_db
def test_demo_banner_shows_the_url_and_one_working_login_per_role():
    seed("--taxpayers=10", "--today=2025-06-10")
    out = io.StringIO()
    call_command("demo_banner", stdout=out)
    banner = out.getvalue()
    assert "http://127.0.0.1:8000/" in banner
    lines = banner.splitlines()
    for code in RoleCode:
        line = next(line for line in lines if line.strip().startswith(ROLES[code].label))
        username = next(s.username for s in county.demo_users(5) if s.role == code.value)
        assert username in line and county.DEMO_PASSWORD in line, line
    assert "另有 branch2、branch3、branch4、branch5" in banner

    refund = User.objects.get(username="refund")
    refund.set_password("changed-by-the-officer-1")
    refund.save()
    User.objects.filter(username="risk").delete()
    out = io.StringIO()
    call_command("demo_banner", "--url=http://127.0.0.1:8001/", stdout=out)
    lines = out.getvalue().splitlines()
    refund_line = next(line for line in lines if "refund" in line)
    assert "（已修改）" in refund_line and county.DEMO_PASSWORD not in refund_line
    risk_line = next(line for line in lines if line.strip().startswith(ROLES[RoleCode.RISK_OFFICER].label))
    assert "尚无账号" in risk_line
    assert "http://127.0.0.1:8001/" in out.getvalue()
    assert Group.objects.filter(name=RoleCode.RISK_OFFICER.value).exists()
