"""The loop between the rating and the refund on PostgreSQL, with a real Celery worker and the 云MAS simulator.

A C taxpayer that the screening failed only on its rating: a ratings file arrives, the worker lists it for a repair
notice with the refund a B rating would unlock, and the service section's SMS reaches the simulator. The taxpayer
repairs its rating: the credit officer receives, reviews and grants the repair, and the worker screens it again and
puts it on the day's 即时名单 with its refundable amount, for the refund officer to push the same day.

The test process travels to 11 May 2026; the worker keeps the real clock, which only makes every queued message
already due (the 即时名单 is the worker's day's list).
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.test import override_settings

from accounts.models import AuditEvent
from credit.models import CreditRating, DishonestyEvent
from credit.repairs.services import credit_case_decide, credit_case_receive, credit_case_review
from credit.services import credit_file_import
from credit.tests.helpers import xlsx_upload
from notify.models import SmsMessage
from notify.simulator import MasSimulator
from notify.tests.conftest import CREDENTIALS
from notify.tests.test_workers import Worker, _env
from refund.candidates.adhoc import candidate_adhoc_push
from refund.models import CandidateItem, CandidateList, RepairNotice, ScreeningResult, ScreeningRun
from refund.repair_notices.services import repair_notices_send
from refund.rules.conditions import CONDITION_BITS
from refund.screening.services import screening_run_start
from taxpayers.models import VatReturn
from taxpayers.tests.factories import TaxpayerFactory
from tests.migration_rows import restore_migration_rows
from tests.waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = "2026-05"
TODAY = dt.date(2026, 5, 11)  # a Monday
WINDOW = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
MOBILE = "13912340001"
RATING_HEADER = ["纳税人识别号", "评价年度", "信用级别", "评价得分", "生效日期", "评价方式", "备注"]
TIMEOUT = 60


@pytest.fixture
def loop_env(tmp_path):
    restore_migration_rows()  # an earlier transactional test's flush removed the templates
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    with (
        MasSimulator(**CREDENTIALS) as sim,
        override_settings(SMS_QUIET_HOURS="", SMS_BACKEND="mas", MAS_BASE_URL=sim.base_url),
    ):
        worker = Worker("loop", _env(sim), tmp_path)
        try:
            worker.wait_ready()
            yield sim, worker
        finally:
            worker.stop()


def _c_taxpayer(branch):
    """Small, 房屋建筑业, credits rising for six months to 2026-04; rated C (69 points) for 2025 with a late return
    it has since corrected — a repair brings it to B."""
    taxpayer = TaxpayerFactory(
        branch=branch, name="城东修复建筑有限公司", industry_code="E4710", size="small", legal_rep_mobile=MOBILE
    )
    VatReturn.objects.create(taxpayer=taxpayer, period="2019-03", end_credit=Decimal("100000"))
    VatReturn.objects.create(taxpayer=taxpayer, period="2025-01", input_special_invoice=Decimal("500000"))
    for i, month in enumerate(WINDOW, start=1):
        VatReturn.objects.create(
            taxpayer=taxpayer, period=month, end_credit=Decimal(1_000_000 * i), input_special_invoice=Decimal("300000")
        )
    CreditRating.objects.create(
        taxpayer=taxpayer, year=2025, level="C", score=Decimal("69"), evaluated_on=dt.date(2026, 4, 18), rule_set="2025"
    )
    late = DishonestyEvent.objects.create(
        taxpayer=taxpayer,
        indicator="010101",
        recorded_on=dt.date(2025, 8, 16),
        tax="增值税",
        amount=Decimal("5000"),
        corrected_on=dt.date(2026, 5, 6),
    )
    return taxpayer, late


def test_a_c_taxpayer_is_told_to_repair_repairs_and_lands_on_the_adhoc_list_with_its_refund(loop_env, org, personas):
    sim, worker = loop_env
    refund_officer, service_officer = personas["refund_officer"], personas["service_officer"]
    credit_officer = personas["credit_officer"]
    taxpayer, late = _c_taxpayer(org["branch_a"])

    def wait(what, predicate):
        return wait_until(what, predicate, TIMEOUT, [worker.log])

    with time_machine.travel(dt.datetime(2026, 5, 11, 9, tzinfo=SHANGHAI), tick=True):
        # 1. The worker screens the period: the taxpayer fails only on its rating.
        run = screening_run_start(actor=refund_officer, application_period=PERIOD, application_date=TODAY)
        wait("the screening run", lambda: ScreeningRun.objects.filter(pk=run.pk, status="succeeded").exists())
        before = ScreeningResult.objects.get(run=run, taxpayer=taxpayer)
        assert (before.eligible, before.failed_mask) == (False, CONDITION_BITS["credit_a_or_b"])

        # 2. The ratings file arrives; the worker lists the taxpayer with what a B rating would unlock.
        rows = [RATING_HEADER, [taxpayer.identifier, 2025, "C", 69, "2026-04-18", "评价", ""]]
        credit_file_import(actor=credit_officer, kind="ratings", file=xlsx_upload(rows))
        notice = wait("the repair notice", lambda: RepairNotice.objects.filter(run=run, taxpayer=taxpayer).first())
        assert notice.level == "C" and notice.refundable_if_b > 0

        # 3. The service section sends the repair notice; the worker hands it to 云MAS.
        outcome = repair_notices_send(actor=service_officer, notices=[notice])
        assert outcome.enqueued == 1
        wait(
            "the repair notice's SMS",
            lambda: SmsMessage.objects.filter(recipient=MOBILE, status__in=["accepted", "delivered"]).exists(),
        )
        told = next(r["content"] for r in sim.state.accepted if r["mobiles"] == [MOBILE])
        assert "城东修复建筑有限公司" in told and "C级" in told and "修复" in told

        # 4. The taxpayer applies for repair; the credit officer receives, reviews and grants it: B from today.
        case = credit_case_receive(
            actor=credit_officer,
            taxpayer=taxpayer,
            kind="repair",
            year=2025,
            corrections={late.pk: late.corrected_on},
            contact_name="王会计",
            contact_phone="13800138000",
            statement="已补办申报",
            received_on=TODAY,
        )
        credit_case_review(actor=credit_officer, case_id=case.pk)
        decided = credit_case_decide(actor=credit_officer, case_id=case.pk, granted_event_ids=[late.pk], on=TODAY)
        assert (decided.state, decided.level_after) == ("approved", "B")

        # 5. Within the minute the worker screens it again and puts it on the day's 即时名单 with its amount.
        item = wait(
            "the taxpayer on the 即时名单",
            lambda: CandidateItem.objects.filter(taxpayer=taxpayer, candidate_list__kind="adhoc").first(),
        )

    after = ScreeningResult.objects.get(run=run, taxpayer=taxpayer)
    assert after.eligible is True and after.refundable_total > 0
    assert item.refundable_total == after.refundable_total == notice.refundable_if_b  # what the what-if promised
    assert item.screening_result == after and str(item.application_period) == PERIOD
    adhoc = CandidateList.objects.get(pk=item.candidate_list_id)
    assert (adhoc.item_count, adhoc.unpushed_count, adhoc.refundable_total) == (1, 1, item.refundable_total)
    assert AuditEvent.objects.filter(verb="screening_rescreen_rating", actor=None).count() == 1
    assert AuditEvent.objects.filter(verb="candidate_adhoc_add", actor=None).count() == 1

    # 6. The refund officer pushes it the same day, whatever the push dates.
    assert candidate_adhoc_push(actor=refund_officer, candidate_list=adhoc) == 1
