"""A risk officer walks a risk task in real Chromium at 1366×768: from the application's risk panel to 识别, 分析 and
派发 to the branch; the branch officer responds with a file and submits; the risk officer returns the application
(退回申请) through refund's workflow. No page scrolls sideways."""

import datetime as dt

import pytest
from django.utils import timezone

from refund.models import RefundApplication
from risk.models import RiskTask, TaskStage
from risk.tests.builders import application
from tests.browser.test_list_layout import overflow_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.risk_grade]


def _fits(page, where: str) -> None:
    problems = overflow_problems(page)
    assert not problems, f"{where}: " + "；".join(problems)


def test_a_risk_task_from_the_risk_panel_to_returning_the_application(
    personas, taxpayer_a, page, login, live_server, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path)
    today = timezone.localdate()
    app = application(taxpayer_a, received_on=today)
    page.on("dialog", lambda dialog: dialog.accept())

    login("risk_officer")
    page.goto(f"{live_server.url}/refund/applications/{app.pk}/")
    page.locator("#new-task-from-application").click()
    page.wait_for_load_state()
    _fits(page, "建立风险任务")
    page.locator("#task-new-form button[type=submit]").click()
    page.wait_for_load_state()
    task = RiskTask.objects.get()
    assert page.url.endswith(f"/risk/tasks/{task.pk}/")
    assert page.locator("#stage-path [aria-current=step]").inner_text() == "识别"
    _fits(page, "任务详情（识别）")

    page.locator("#step-analyse button[type=submit]").click()
    page.wait_for_load_state()
    page.fill("#step-assign input[name=due_on]", (today + dt.timedelta(days=7)).isoformat())
    page.fill("#step-assign textarea[name=analysis]", "进项来源须实地核查")
    page.locator("#step-assign button[type=submit]").click()
    page.wait_for_load_state()
    assert "城东税务分局" in page.locator("#task-assignment").inner_text()
    _fits(page, "任务详情（任务）")

    page.context.clear_cookies()
    login("officer_a")
    page.goto(f"{live_server.url}/risk/tasks/")
    page.get_by_role("link", name=task.title).click()
    page.wait_for_load_state()
    page.fill("#step-respond textarea[name=findings]", "实地核查：进项发票来自走逃企业")
    page.locator("#step-respond button[type=submit]").click()
    page.wait_for_load_state()
    report = tmp_path / "核查报告.pdf"
    report.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n")
    page.set_input_files("#step-file input[type=file]", str(report))
    page.locator("#step-file button[type=submit]").click()
    page.wait_for_load_state()
    assert "核查报告.pdf" in page.locator("#task-files").inner_text()
    _fits(page, "任务详情（应对）")
    page.locator("#step-submit button[type=submit]").click()
    page.wait_for_load_state()
    assert RiskTask.objects.get(pk=task.pk).stage == TaskStage.FEEDBACK

    page.context.clear_cookies()
    login("risk_officer")
    assert "办理中" in page.locator("#risk-tasks-block").inner_text()
    _fits(page, "工作台")
    page.goto(f"{live_server.url}/risk/tasks/{task.pk}/")
    page.select_option("#step-outcome select[name=outcome]", "returned")
    page.fill("#step-outcome textarea[name=note]", "进项须补充核实")
    page.locator("#step-outcome button[type=submit]").click()
    page.wait_for_load_state()
    assert "退回申请" in page.locator("#task-outcome").inner_text()
    assert RefundApplication.objects.get(pk=app.pk).state == RefundApplication.State.RETURNED
    _fits(page, "任务详情（监控）")

    for path in ("/risk/tasks/", "/risk/tasks/import/"):
        page.goto(f"{live_server.url}{path}")
        _fits(page, path)
