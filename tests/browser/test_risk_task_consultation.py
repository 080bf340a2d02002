"""The risk review's walk in real Chromium at 1366×768: a risk officer takes a task on a 高风险 application from
识别 through 分析 and 派发; the branch responds; at 反馈 the page offers no outcome of one officer's own but
提请集体会商; the consultation (法制 and 风险 opinions, minutes) decides 退回申请, which returns the application and
becomes the task's outcome. No page scrolls sideways."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from accounts.roles import RoleCode
from refund.models import RefundApplication
from refund.tests.applications import eligible_taxpayer, reviewing
from risk.consultations.services import consultation_opinion_record
from risk.models import RiskTask, TaskStage
from tests.browser.test_list_layout import overflow_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.risk_grade]


def _fits(page, where: str) -> None:
    problems = overflow_problems(page)
    assert not problems, f"{where}: " + "；".join(problems)


def _click(page, selector: str) -> None:
    page.locator(selector).click()
    page.wait_for_load_state()


def test_a_task_goes_from_identification_to_a_consultation_that_returns_the_application(
    personas, org, page, login, live_server
):
    app = reviewing(personas["refund_officer"], eligible_taxpayer(org["branch_a"], name="城东进项异常有限公司"))
    legal = User.objects.create_user(
        username="legal", password="test-pass-123", full_name="林嘉", branch=org["section"]
    )
    legal.groups.add(Group.objects.get(name=RoleCode.LEGAL_OFFICER.value))
    page.on("dialog", lambda dialog: dialog.accept())

    login("risk_officer")
    page.goto(f"{live_server.url}/refund/applications/{app.pk}/")
    _click(page, "#new-task-from-application")
    _click(page, "#task-new-form button[type=submit]")
    task = RiskTask.objects.get()
    _click(page, "#step-analyse button[type=submit]")
    page.fill("#step-assign input[name=due_on]", (timezone.localdate() + dt.timedelta(days=7)).isoformat())
    page.fill("#step-assign textarea[name=analysis]", "高风险：进项来源须实地核查")
    _click(page, "#step-assign button[type=submit]")

    page.context.clear_cookies()
    login("officer_a")
    page.goto(f"{live_server.url}/risk/tasks/{task.pk}/")
    page.fill("#step-respond textarea[name=findings]", "实地核查：主要供应商已走逃")
    _click(page, "#step-respond button[type=submit]")
    _click(page, "#step-submit button[type=submit]")

    page.context.clear_cookies()
    login("risk_officer")
    page.goto(f"{live_server.url}/risk/tasks/{task.pk}/")
    assert page.locator("#step-outcome").count() == 0  # a 高风险 case is not one officer's to decide
    _fits(page, "任务详情（反馈，待会商）")
    _click(page, "#step-consult button[type=submit]")
    assert page.locator("#step-consult").count() == 0  # asked once
    _click(page, "#task-consultation a")
    assert "/risk/consultations/" in page.url and "主要供应商已走逃" in page.content()
    page.locator("#participants-form label", has_text="林嘉").locator("input").check()
    _click(page, "#participants-form button[type=submit]")
    page.check("#opinion-form input[value=disagree]")
    page.fill("#opinion-form textarea[name=text]", "供应商走逃，进项存疑")
    _click(page, "#opinion-form button[type=submit]")
    consultation = RiskTask.objects.get(pk=task.pk).consultation
    consultation_opinion_record(actor=legal, consultation=consultation, opinion="disagree", text="证据不足以退税")
    page.reload()
    page.fill("#id_minutes", "经会商，主要供应商走逃，进项真实性存疑，退回申请。")
    page.check("#decision-form input[value=return]")
    page.fill("#id_note", "进项发票待核实")
    _click(page, "#decision-form button[type=submit]")
    _fits(page, "会商决定")

    page.goto(f"{live_server.url}/risk/tasks/{task.pk}/")
    assert "退回申请" in page.locator("#task-outcome").inner_text()
    assert page.locator("#stage-path [aria-current=step]").inner_text() == "监控"
    _fits(page, "任务详情（监控）")
    assert RiskTask.objects.get(pk=task.pk).stage == TaskStage.MONITORING
    assert RefundApplication.objects.get(pk=app.pk).state == RefundApplication.State.RETURNED
