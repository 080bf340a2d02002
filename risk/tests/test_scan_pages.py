"""The scans' pages: figures on crafted scans, hits by family and severity, branch scoping, the start of a scan of
all taxpayers through the worker, the audited export, the hit rate by month and the 工作台 block."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from risk import selectors
from risk.models import RiskHit, Scan, ScanResult
from risk.services import risk_scan_all_start, risk_scan_run

from .builders import taxpayer

pytestmark = pytest.mark.django_db


def _scan(as_of=dt.date(2026, 6, 30), *, taxpayers=10, kind="all", **fields) -> Scan:
    return Scan.objects.create(kind=kind, as_of=as_of, status="succeeded", taxpayer_count=taxpayers, **fields)


def _hit(scan, tp, code, severity, **evidence) -> RiskHit:
    return RiskHit.objects.create(scan=scan, taxpayer=tp, indicator_code=code, severity=severity, evidence=evidence)


@pytest.fixture
def crafted(org):
    """A scan of all taxpayers: three hits in branch A (two 高 invoice hits, one 低 policy hit), one in branch B."""
    a1 = taxpayer(branch=org["branch_a"], name="城东甲公司", identifier="91330100AAAA000001")
    a2 = taxpayer(branch=org["branch_a"], name="城东乙公司", identifier="91330100AAAA000002")
    b1 = taxpayer(branch=org["branch_b"], name="城西丙公司", identifier="91330100BBBB000003")
    scan = _scan(hit_count=4, high_count=2, medium_count=0)
    _hit(scan, a1, "INV_LOST_CONTROL", "high", lost_control_tax="12000.00", input_tax_total="100000.00")
    _hit(scan, a2, "INV_ABNORMAL_VOUCHER", "high", abnormal_tax="30000.00")
    _hit(scan, a1, "POL_FOCUS_INDUSTRY", "low", industry_code="F5123")
    _hit(scan, b1, "INV_LOST_CONTROL", "high", lost_control_tax="5000.00")
    ScanResult.objects.create(scan=scan, taxpayer=a1, grade="high", high_hits=1, low_hits=1)
    ScanResult.objects.create(scan=scan, taxpayer=a2, grade="high", high_hits=1)
    ScanResult.objects.create(scan=scan, taxpayer=b1, grade="high", high_hits=1)
    return {"scan": scan, "a1": a1, "a2": a2, "b1": b1}


def _cells(matrix) -> dict:
    return {(row["family"], severity): n for row in matrix.rows for severity, n in row["cells"] if n}


def test_hits_by_family_and_severity_whole_bureau_and_one_branch(crafted, personas):
    scan = crafted["scan"]
    whole = selectors.hit_matrix(user=personas["risk_officer"], scan=scan)
    assert _cells(whole) == {("invoice", "high"): 3, ("policy", "low"): 1}
    assert whole.total == 4 and [n for _, _, n in whole.totals] == [3, 0, 1]
    branch_a = selectors.hit_matrix(user=personas["officer_a"], scan=scan)
    assert _cells(branch_a) == {("invoice", "high"): 2, ("policy", "low"): 1}
    assert selectors.scan_figures(user=personas["officer_b"], scans=[scan])[scan.pk] == {
        "hits": 1,
        "high": 1,
        "medium": 0,
    }
    assert selectors.scan_figures(user=personas["supervisor"], scans=[scan])[scan.pk]["hits"] == 4  # as stored


def test_the_hits_filter_in_the_url_and_show_evidence_with_masked_identifiers(crafted, client_for):
    url = reverse("risk:scan", args=[crafted["scan"].pk])
    page = client_for("risk_officer").get(url, {"family": "invoice", "severity": "high"}).content.decode()
    assert "城东甲公司" in page and "城西丙公司" in page and "城东乙公司" in page
    assert "91330100AAAA000001" not in page and "取得失控发票" in page
    assert "失控发票进项税额（元）：12,000.00" in page
    assert 'id="hit-matrix"' in page and "?family=invoice&amp;severity=high" in page
    low = client_for("risk_officer").get(url, {"severity": "low"}).content.decode()
    assert "重点关注行业" in low and "城西丙公司" not in low


def test_a_branch_officer_sees_only_its_taxpayers_hits(crafted, client_for):
    url = reverse("risk:scan", args=[crafted["scan"].pk])
    page = client_for("officer_b").get(url).content.decode()
    assert "城西丙公司" in page and "城东甲公司" not in page and "城东乙公司" not in page
    # A scan of an application of branch A is not branch B's to see.
    one = _scan(kind="application", application_id=7, taxpayers=1)
    ScanResult.objects.create(scan=one, taxpayer=crafted["a1"], application_id=7, grade="low")
    assert client_for("officer_b").get(reverse("risk:scan", args=[one.pk])).status_code == 404
    assert client_for("officer_a").get(reverse("risk:scan", args=[one.pk])).status_code == 200
    listed = client_for("officer_b").get(reverse("risk:scans")).content.decode()
    assert f"#{crafted['scan'].pk}<" in listed and f"#{one.pk}<" not in listed


def test_the_scan_list_shows_kind_day_counts_and_who_started_it(crafted, client_for, personas):
    crafted["scan"].started_by = personas["risk_officer"]
    crafted["scan"].save()
    page = client_for("supervisor").get(reverse("risk:scans")).content.decode()
    assert "全部纳税人" in page and "2026-06-30" in page and "risk_officer" in page
    assert 'id="scan-start"' not in page  # 局领导 looks, 风险管理股 starts
    assert 'id="scan-start"' in client_for("risk_officer").get(reverse("risk:scans")).content.decode()


def test_starting_a_scan_queues_it_after_commit_and_a_running_one_is_opened_instead(
    personas, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for("risk_officer").post(reverse("risk:scan_start"))
    scan = Scan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("risk:scan", args=[scan.pk])
    assert (scan.kind, scan.status, scan.started_by) == ("all", "running", personas["risk_officer"])
    assert len(callbacks) == 1 and AuditEvent.objects.filter(verb="risk.scan").count() == 1
    again, started = risk_scan_all_start(actor=personas["risk_officer"])
    assert again == scan and not started and Scan.objects.count() == 1
    done = risk_scan_run(scan_id=scan.pk)  # what the worker does
    assert done.status == "succeeded" and done.finished_at is not None
    assert risk_scan_run(scan_id=scan.pk).status == "succeeded"  # a second delivery leaves it alone


def test_a_failed_scan_is_marked_failed(personas, monkeypatch):
    scan = Scan.objects.create(kind="all", as_of=dt.date(2026, 6, 30))

    def boom(*, scan):
        raise RuntimeError("lost connection")

    monkeypatch.setattr("risk.services.risk_scan_execute", boom)
    with pytest.raises(RuntimeError):
        risk_scan_run(scan_id=scan.pk)
    scan.refresh_from_db()
    assert scan.status == "failed" and scan.message


def test_the_export_is_audited_masked_and_follows_the_filters(crafted, client_for):
    url = reverse("risk:scan_export", args=[crafted["scan"].pk])
    response = client_for("risk_officer").get(url, {"family": "invoice"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("纳税人识别号", "纳税人名称", "主管税务机关", "风险类别")
    assert len(rows) == 4 and all("AAAA00000" not in str(row[0]) for row in rows[1:])
    assert {row[4] for row in rows[1:]} == {"取得失控发票", "取得异常凭证"}
    event = AuditEvent.objects.get(verb="export")
    assert "3 条" in event.summary and "family=invoice" in event.summary
    assert client_for("officer_a").get(url).status_code == 403


def test_the_hit_rate_by_month_reads_the_stored_scans(org, personas, client_for):
    tp = taxpayer(branch=org["branch_a"])
    may, june = _scan(dt.date(2026, 5, 31), taxpayers=200), _scan(dt.date(2026, 6, 30), taxpayers=300)
    _scan(dt.date(2026, 6, 12), taxpayers=1, kind="application", application_id=3)
    _hit(may, tp, "OPS_INPUT_SURGE", "medium")
    _hit(june, tp, "OPS_INPUT_SURGE", "medium")
    other = taxpayer(branch=org["branch_a"])
    _hit(june, other, "OPS_INPUT_SURGE", "medium")
    _hit(june, other, "POL_FOCUS_INDUSTRY", "low")
    Scan.objects.create(kind="all", as_of=dt.date(2026, 6, 30), status="failed", taxpayer_count=999)
    rows = selectors.indicator_hit_rate_by_month("OPS_INPUT_SURGE")
    assert [(r["month"], r["scans"], r["taxpayers"], r["hits"], r["rate"]) for r in rows] == [
        (dt.date(2026, 6, 1), 2, 301, 2, Decimal("0.66")),
        (dt.date(2026, 5, 1), 1, 200, 1, Decimal("0.50")),
    ]
    page = client_for("risk_officer").get(reverse("risk:indicator", args=["OPS_INPUT_SURGE"])).content.decode()
    assert 'id="hit-rates"' in page and "2026年6月" in page and "0.66" in page


def test_the_workbench_block_shows_the_latest_full_scan_by_family_and_severity(crafted, client_for):
    _scan(dt.date(2026, 5, 31))  # an older scan: not the one shown
    page = client_for("officer_a").get(reverse("home")).content.decode()
    assert 'id="risk-hits-block"' in page and "2026-06-30全部纳税人扫描" in page
    link = reverse("risk:scan", args=[crafted["scan"].pk]) + "?family=invoice&amp;severity=high"
    assert f'<a href="{link}">2</a>' in page  # branch A's two invoice hits
    assert 'id="risk-hits-block"' not in client_for("credit_officer").get(reverse("home")).content.decode()


def test_the_workbench_block_without_a_scan(personas, client_for):
    page = client_for("risk_officer").get(reverse("home")).content.decode()
    assert 'id="risk-no-scan"' in page
