"""集体会商 in the browser at 1366×768: the risk officer opens a consultation from a 高风险 application's risk panel,
invites the legal section, gives the risk section's opinion, and once the legal opinion is in, records the minutes
and the decision 退回申请, which returns the application. No page overflows sideways."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import RoleCode
from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, reviewing
from risk.consultations.services import consultation_opinion_record
from risk.models import Consultation

pytestmark = pytest.mark.risk_grade


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_a_risk_officer_takes_a_consultation_to_a_return(personas, org, page, login, live_server):
    application = reviewing(personas["refund_officer"], eligible_taxpayer(org["branch_a"], name="城东会商有限公司"))
    legal = User.objects.create_user(
        username="legal", password="test-pass-123", full_name="林嘉", branch=org["section"]
    )
    legal.groups.add(Group.objects.get(name=RoleCode.LEGAL_OFFICER.value))

    login("risk_officer")
    page.goto(f"{live_server.url}/refund/applications/{application.pk}/")
    page.click("#consultation-open-link")
    assert page.locator("#consultation-hits [data-grade]").inner_text() == "高风险" and _fits(page)
    page.fill("#id_reason", "零申报且留抵增长，提请集体会商")
    page.locator("#consultation-open-form label", has_text="林嘉").locator("input").check()
    page.click("#consultation-open-form button[type=submit]")
    page.wait_for_load_state()
    consultation = Consultation.objects.get(application=application)
    assert page.url.endswith(f"/risk/consultations/{consultation.pk}/")
    assert "尚缺法制、风险部门的意见" in page.locator("#decision-form").inner_text()

    page.check("#opinion-form input[value=agree]")
    page.click("#opinion-form button[type=submit]")
    page.wait_for_load_state()
    consultation_opinion_record(actor=legal, consultation=consultation, opinion="supplement", text="核查进项真实性")
    page.reload()
    assert page.locator("#decision-waits").count() == 0

    page.fill("#id_minutes", "经会商，进项发票真实性存疑，退回分局核实。")
    page.check("#decision-form input[value=return]")
    page.fill("#id_note", "进项发票待核实")
    page.click("#decision-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#consultation-decision [data-decision]").inner_text() == "退回申请"
    assert page.locator("#decision-form").count() == 0 and _fits(page)
    application.refresh_from_db()
    assert application.state == RefundApplication.State.RETURNED

    page.goto(f"{live_server.url}/risk/consultations/")
    assert page.locator("#consultation-list tbody tr").count() == 1 and _fits(page)
