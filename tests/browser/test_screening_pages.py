"""The what-if panel and the run progress bar in real Chromium: both depend on htmx."""

import datetime as dt

import pytest

from refund.models import ScreeningRun
from refund.tests import screening_data as sd

pytestmark = pytest.mark.django_db(transaction=True)


def test_what_if_panel_recomputes_beside_the_actual_decision(personas, org, page, login, live_server):
    taxpayer = sd.immediate_refund_taxpayer(org["branch_b"], name="城西即征即退有限公司")
    run = sd.finished_run([taxpayer])
    login("officer_b")
    page.goto(f"{live_server.url}/refund/runs/{run.pk}/results/")
    page.get_by_role("link", name="城西即征即退有限公司").click()
    page.wait_for_load_state()
    explanation_url = page.url
    assert page.locator("#decision-outcome").inner_text() == "不符合条件"
    assert page.locator("#refundable-total").inner_text() == "0.00"

    page.check("#id_immediate_repaid")
    page.locator("#what-if button[type=submit]").click()
    page.wait_for_selector("#what-if-table")
    assert page.url == explanation_url  # swapped in place by htmx, no navigation
    assert page.locator('[data-what-if="outcome"]').inner_text() == "符合条件"
    assert page.locator('[data-what-if="refundable_total"]').inner_text() == "1,200,000.00"
    assert page.locator("#decision-outcome").inner_text() == "不符合条件"  # the actual decision stays beside it

    page.select_option("#id_credit_level", "C")
    page.locator("#what-if button[type=submit]").click()
    page.wait_for_function(
        "document.querySelector('[data-what-if=\"outcome\"]').innerText === '不符合条件'"
    )
    assert "纳税信用级别为A级或B级" in page.locator('[data-what-if="failed"]').inner_text()

    page.fill("#id_what_if_period", "2026/04")
    page.locator("#what-if button[type=submit]").click()
    page.wait_for_selector("#what-if-result .alert-danger")
    assert "不是有效的所属期" in page.locator("#what-if-result").inner_text()


def test_run_progress_updates_while_running_and_shows_totals_when_done(personas, org, page, login, live_server):
    taxpayer = sd.eligible_taxpayer(org["branch_a"])
    run = sd.finished_run([taxpayer])
    ScreeningRun.objects.filter(pk=run.pk).update(
        status=ScreeningRun.Status.RUNNING, total_count=4, processed_count=1, application_date=dt.date(2026, 3, 10)
    )
    login("refund_officer")
    page.goto(f"{live_server.url}/refund/runs/{run.pk}/")
    bar = page.locator("#run-progress .progress-bar")
    assert bar.inner_text() == "25%"
    ScreeningRun.objects.filter(pk=run.pk).update(processed_count=3)
    page.wait_for_function("document.querySelector('#run-progress .progress-bar').innerText === '75%'")
    ScreeningRun.objects.filter(pk=run.pk).update(status=ScreeningRun.Status.SUCCEEDED, processed_count=4)
    page.wait_for_selector("#total-eligible")  # HX-Refresh reloaded the page with the totals
    assert page.locator("#total-eligible").inner_text() == "1"
    assert page.locator("#total-amount").inner_text() == "120.00"
