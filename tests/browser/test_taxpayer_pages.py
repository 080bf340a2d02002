"""A branch officer's everyday path through the taxpayer pages, in real Chromium."""

import pytest

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_officer_finds_a_taxpayer_and_reveals_contacts(personas, taxpayer_a, taxpayer_b, page, login, live_server):
    login("officer_a")
    assert page.url == f"{live_server.url}/"

    page.fill("input[name=q][type=search]", taxpayer_a.name[:4])
    page.press("input[name=q][type=search]", "Enter")
    page.wait_for_load_state()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "138****8000" in rows.first.inner_text()
    assert taxpayer_b.name not in page.content()  # the other branch's taxpayer never shows

    rows.first.locator("a").first.click()
    page.wait_for_load_state()
    assert taxpayer_a.name in page.title()
    assert "13800138000" not in page.content()

    page.get_by_role("button", name="显示完整信息").click()
    page.wait_for_selector("text=13800138000")
    assert AuditEvent.objects.filter(verb="view_contacts", object_id=str(taxpayer_a.pk)).count() == 1


def test_other_branch_taxpayer_is_not_found(personas, taxpayer_b, page, login, live_server):
    login("officer_a")
    response = page.goto(f"{live_server.url}/taxpayers/{taxpayer_b.pk}/")
    assert response.status == 404
