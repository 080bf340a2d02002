"""A credit officer walks a repair case in real Chromium at 1366×768: from the taxpayer's credit page to the
application, the review, the decision, and the new rating in force; no page scrolls sideways."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from credit.models import CreditCase, CreditRating, DishonestyEvent, RuleSet
from tests.browser.test_list_layout import overflow_problems

pytestmark = pytest.mark.django_db(transaction=True)  # committed data: the live server's thread reads it


def _late_return_corrected_after_the_rating(taxpayer) -> DishonestyEvent:
    """Last year rated C at 69 points; a late return of that year corrected after the rating was set (dates from
    today: the live server keeps real time, and a repair must be applied for before the next evaluation)."""
    today = timezone.localdate()
    year = today.year - 1
    rated_on = min(dt.date(today.year, 4, 18), today - dt.timedelta(days=40))
    CreditRating.objects.create(
        taxpayer=taxpayer,
        year=year,
        level="C",
        score=Decimal("69"),
        evaluated_on=rated_on,
        rule_set=RuleSet.for_year(year),
    )
    return DishonestyEvent.objects.create(
        taxpayer=taxpayer,
        indicator="010101",
        recorded_on=dt.date(year, 8, 16),
        tax="增值税",
        amount=Decimal("5000"),
        corrected_on=rated_on + dt.timedelta(days=10),
    )


def _fits(page, where: str) -> None:
    problems = overflow_problems(page)
    assert not problems, f"{where}: " + "；".join(problems)


def test_the_credit_officer_repairs_a_rating_from_the_credit_page(personas, taxpayer_a, page, login, live_server):
    event = _late_return_corrected_after_the_rating(taxpayer_a)
    login("credit_officer")
    assert page.locator("#credit-cases-block").inner_text().count("尚无修复、复核、复评申请") == 1
    _fits(page, "工作台")

    page.goto(f"{live_server.url}/taxpayers/{taxpayer_a.pk}/")
    page.locator("#credit-page-link").click()
    page.wait_for_load_state()
    assert "纳税信用" in page.title()
    row = page.locator(f"#event-{event.pk}")
    assert "可申请修复，恢复 2 分" in row.inner_text()
    _fits(page, "纳税信用页")

    row.get_by_role("link", name="申请修复").click()
    page.wait_for_load_state()
    assert page.locator(f"#id_event_{event.pk}").is_checked()
    page.fill("#id_contact_name", "王会计")
    page.fill("#id_contact_phone", "13800138000")
    page.fill("#id_statement", "已补办申报并缴纳税款")
    page.check("#id_commitment")
    page.locator("button[value=preview]").click()
    page.wait_for_load_state()
    figures = page.locator("#case-figures").inner_text()
    assert "C级，69.00 分" in figures and "B级，71.00 分" in figures
    _fits(page, "登记申请（试算）")

    page.locator("button[value=receive]").click()
    page.wait_for_load_state()
    case = CreditCase.objects.get(taxpayer=taxpayer_a)
    assert page.url.endswith(f"/credit/cases/{case.pk}/")
    assert page.locator("#case-state").inner_text().startswith("已受理")
    _fits(page, "申请详情（已受理）")

    page.get_by_role("button", name="开始审核").click()
    page.wait_for_load_state()
    assert page.locator("#case-state").inner_text().startswith("审核中")
    page.get_by_role("link", name="作出决定").click()
    page.wait_for_load_state()
    assert page.locator(f"#decision-form input[value='{event.pk}']").is_checked()
    _fits(page, "作出决定")
    page.get_by_role("button", name="确认决定").click()
    page.wait_for_load_state()
    assert page.locator("#case-state").inner_text().startswith("准予")
    assert "新的评价结果 B级 71.00 分" in page.locator("#case-decision").inner_text()
    assert page.locator("#case-actions").count() == 0  # decided: nothing left to do
    _fits(page, "申请详情（准予）")

    page.locator("#case-summary").get_by_role("link", name=taxpayer_a.name).click()
    page.wait_for_load_state()
    in_force = page.locator(".rating", has_text="现行")
    assert in_force.count() == 1 and "B级 71 分" in in_force.inner_text() and "修复" in in_force.inner_text()
    assert "准予" in page.locator("#taxpayer-cases").inner_text()
    assert "已经修复或撤销扣分" in page.locator(f"#event-{event.pk}").inner_text()
    assert page.locator(f"#event-{event.pk}").get_by_role("link", name="申请修复").count() == 0
    _fits(page, "纳税信用页（修复后）")
    case.refresh_from_db()
    assert case.state == CreditCase.State.APPROVED and case.new_rating.level == "B"
