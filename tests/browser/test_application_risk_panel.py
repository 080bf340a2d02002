"""The application page's risk panel (风险等级): the grade and each hit with its evidence, at 1366×768 without
horizontal overflow."""

import pytest

from refund.tests.applications import eligible_taxpayer, reviewing

pytestmark = pytest.mark.risk_grade


def test_the_risk_panel_shows_the_grade_and_evidence_within_the_page(personas, org, page, login, live_server):
    application = reviewing(personas["refund_officer"], eligible_taxpayer(org["branch_a"], name="城东风险面板有限公司"))
    login("refund_officer")
    page.goto(f"{live_server.url}/refund/applications/{application.pk}/")
    panel = page.locator("#risk-grade")
    assert panel.is_visible()
    assert panel.locator("[data-grade]").inner_text() == "高风险"
    assert panel.locator("#risk-grade-hits tbody tr").count() >= 1
    assert "零申报" in panel.inner_text() or "留抵" in panel.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert "6,000,000.00" in panel.inner_text()  # amounts as officers read them
