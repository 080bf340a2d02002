"""The application queue in real Chromium: Enter submits the filters, two rows selected from the keyboard,
批量审批, the confirmation that says how many and what will happen, then the summary."""

import pytest

from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, reviewing

pytestmark = pytest.mark.django_db(transaction=True)


def test_batch_approval_from_the_queue(personas, org, page, login, live_server):
    actor = personas["refund_officer"]
    first = reviewing(actor, eligible_taxpayer(org["branch_a"], name="城东批量审批甲有限公司"))
    second = reviewing(actor, eligible_taxpayer(org["branch_b"], name="城西批量审批乙有限公司"))
    login("refund_officer")
    page.goto(f"{live_server.url}/refund/applications/")
    assert page.locator("#queue tbody tr").count() == 2

    page.fill("#id_q", "批量审批")
    page.press("#id_q", "Enter")  # Enter submits the filter bar
    page.wait_for_url("**/refund/applications/?*q=*")
    assert page.locator("#queue tbody tr").count() == 2

    page.focus(f"#select-{first.pk}")
    page.keyboard.press("Space")  # selected from the keyboard
    page.check(f"#select-{second.pk}")
    assert page.locator("#selected-count").inner_text() == "2"
    page.get_by_role("button", name="批量审批").click()
    page.wait_for_selector("#batch-what")
    assert page.get_by_role("heading", name="确认批量审批：已选 2 件，可审批 2 件").is_visible()
    assert "将逐件审批通过" in page.locator("#batch-what").inner_text()
    assert page.locator("#doable-count").inner_text() == "2"
    assert RefundApplication.objects.filter(state="approved").count() == 0  # nothing done before confirming

    page.get_by_role("button", name="确认审批 2 件").click()
    page.wait_for_selector("#batch-result")
    assert page.locator("#approved-count").inner_text() == "2"
    assert {row.get_attribute("data-id") for row in page.locator("#approved tbody tr").all()} == {
        str(first.pk),
        str(second.pk),
    }
    assert set(RefundApplication.objects.values_list("state", flat=True)) == {"approved"}
    page.get_by_role("link", name="返回队列").first.click()
    page.wait_for_load_state()
    assert "q=" in page.url  # back to the queue as it was filtered
    assert page.locator("#queue").count() == 0  # both left the open queue
