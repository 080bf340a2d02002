"""A service officer creates an SMS batch in real Chromium: the template's columns appear when it is chosen
(htmx), the preview counts, the confirmation, and the batch page's progress refreshing itself until done."""

import pytest
from django.test import override_settings

from notify import dispatch
from notify.backends.console import ConsoleBackend
from notify.models import MessageTemplate, SmsBatch

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(SMS_QUIET_HOURS="")
def test_officer_creates_a_batch_and_watches_it_finish(personas, page, login, live_server):
    template = MessageTemplate.objects.create(code="remind", name="申报提醒", body="{name}，请于{date}前完成申报。",
                                              sign_text="【示范县税务局】")
    login("service_officer")
    page.goto(f"{live_server.url}/notify/batches/")
    page.get_by_role("link", name="新建短信批次").first.click()
    page.wait_for_load_state()
    page.select_option("#id_template", str(template.pk))
    page.wait_for_selector("text=手机号码、name、date")  # swapped in by htmx, no reload

    page.fill("#id_name", "五月申报提醒")
    pasted = "手机号码\tname\tdate\n13800138000\t甲公司\t5月15日\n13900139000\t乙公司\t5月15日\n123\t丙\t5月15日"
    page.fill("#id_recipients_text", pasted)
    page.get_by_role("button", name="预览").click()
    page.wait_for_load_state()
    assert page.locator("#to-send").inner_text() == "2"
    assert "甲公司，请于5月15日前完成申报。【示范县税务局】" in page.content()
    assert "13800138000" not in page.content()

    page.get_by_role("button", name="确认发送 2 条").click()
    page.wait_for_selector("#batch-progress")
    batch = SmsBatch.objects.get()
    assert page.url == f"{live_server.url}/notify/batches/{batch.pk}/"
    assert batch.total == 3 and batch.status == "queued"

    dispatch.run(backend=ConsoleBackend())  # what the worker does
    page.wait_for_selector("#batch-progress .tag-done", timeout=10_000)  # the page polled and saw it finish
    assert "100%" in page.locator("#batch-progress").inner_text()
    assert page.locator("#batch-progress[hx-get]").count() == 0  # and stopped polling
