"""The bureau's whole routine (import, screen, push lists, applications, ledger and bill) on PostgreSQL, with a
real Celery worker and the 云MAS simulator.

Returns are imported by the worker, the worker screens the period, the refund officer builds the push date's lists,
the service officer reminds the candidates (the worker sends the SMS to the simulator), an application arrives
and is confirmed, batch-approved, paid by the treasury, registered by the next morning's ledger job, and the
finance contact's bill is accepted by the simulator and reported delivered to our live server.

The test process travels in time through the days of November 2026 (push date 17 November); the worker keeps the
real clock, which only makes every queued message already due.
"""

import datetime as dt
import importlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from core.money import format_yuan
from credit.tests.factories import TaxpayerFactory
from ledger.models import LedgerEntry, LedgerRun
from ledger.services import payment_record
from ledger.tasks import register_previous_day
from notify.models import SmsMessage
from notify.simulator import MasSimulator
from notify.tests.conftest import CREDENTIALS, simulator_settings
from notify.tests.test_workers import Worker, _env
from refund.applications.batch import applications_approve_batch
from refund.applications.services import application_confirm, application_receive
from refund.candidates.services import candidate_list_remind, candidate_lists_build
from refund.models import CandidateItem, CandidateList, RefundApplication, ScreeningResult, ScreeningRun
from refund.screening.services import screening_run_start
from refund.tests.applications import confirming_officer
from taxpayers.models import ImportJob, VatReturn
from taxpayers.services import import_job_submit
from taxpayers.tests.test_imports import to_xlsx
from tests.waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN = "routine-test-token"
PERIOD = "2026-11"
PUSH_DATE = dt.date(2026, 11, 17)  # the day after the 16 November filing deadline
WINDOW = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
RETURN_HEADERS = ["纳税人识别号", "所属期", "申报日期", "进项-增值税专用发票", "期末留抵税额"]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _wait(what: str, predicate, worker: Worker, timeout: float = 120):
    return wait_until(what, predicate, timeout, [worker.log])


def _returns_file(taxpayers) -> SimpleUploadedFile:
    """Each taxpayer's 2019-03 base, an earlier year's input, the 2025 year-end credit and six months of rising
    credits to 2026-10."""
    rows = []
    for taxpayer in taxpayers:
        rows.append([taxpayer.identifier, "2019-03", "2019-04-15", "0", "100000"])
        rows.append([taxpayer.identifier, "2025-01", "2025-02-15", "500000", "0"])
        rows.append([taxpayer.identifier, "2025-12", "2026-01-15", "0", "200000"])
        for i, month in enumerate(WINDOW, start=1):
            filed = dt.date(int(month[:4]), int(month[5:]) + 1, 15).isoformat()
            rows.append([taxpayer.identifier, month, filed, "300000", str(1_000_000 * i)])
    return SimpleUploadedFile("申报表.xlsx", to_xlsx(RETURN_HEADERS, rows))


def _seed_templates() -> None:
    """The reminder and bill templates as their migrations seed them (an earlier transactional test's flush
    removes migration data)."""
    for module, seed in (
        ("refund.migrations.0005_candidate_permissions", "seed_reminder_template"),
        ("ledger.migrations.0004_bill_template", "seed_bill_template"),
    ):
        getattr(importlib.import_module(module), seed)(django_apps, None)


@pytest.fixture
def routine_env(live_server, tmp_path):
    _seed_templates()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    report_url = f"{live_server.url}/notify/mas/report/{TOKEN}/"
    with (
        MasSimulator(**CREDENTIALS, report_url=report_url) as sim,
        override_settings(
            MAS_REPORT_TOKEN=TOKEN,
            SMS_QUIET_HOURS="",
            **simulator_settings(sim),
            IMPORT_INLINE_MAX_BYTES=0,  # every import goes to the worker
            MEDIA_ROOT=str(tmp_path / "media"),
        ),
    ):
        worker = Worker("routine", _env(sim, IMPORT_INLINE_MAX_BYTES="0", MEDIA_ROOT=str(tmp_path / "media")), tmp_path)
        try:
            worker.wait_ready()
            yield sim, worker
        finally:
            worker.stop()


def test_import_screen_list_remind_apply_approve_pay_register_and_bill(routine_env, org, personas):
    sim, worker = routine_env
    refund_officer, service_officer = personas["refund_officer"], personas["service_officer"]
    first = TaxpayerFactory(
        branch=org["branch_a"],
        credit_level="A",
        industry_code="E4710",
        size="small",
        legal_rep_mobile="13912345678",
        finance_contact_name="李会计",
        finance_contact_mobile="13800138001",
    )
    second = TaxpayerFactory(
        branch=org["branch_a"],
        credit_level="B",
        industry_code="E4710",
        size="small",
        legal_rep_mobile="13912345679",
        finance_contact_name="王会计",
        finance_contact_mobile="13800138002",
    )

    with time_machine.travel(_at(PUSH_DATE, 7, 0), tick=True):
        # 1. Returns arrive as the core system's export; the worker imports them.
        job = import_job_submit(actor=refund_officer, kind="returns", uploaded_file=_returns_file([first, second]))
        _wait(
            "the returns import",
            lambda: ImportJob.objects.filter(
                pk=job.pk, status__in=[ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED]
            ).first(),
            worker,
        )
        job.refresh_from_db()
        assert job.status == ImportJob.Status.SUCCEEDED, job.errors
        assert VatReturn.objects.filter(taxpayer__in=[first, second]).count() == 18

        # 2. The worker screens the period.
        run = screening_run_start(actor=refund_officer, application_period=PERIOD, application_date=PUSH_DATE)
        _wait(
            "the screening run",
            lambda: ScreeningRun.objects.filter(pk=run.pk, status=ScreeningRun.Status.SUCCEEDED).exists(),
            worker,
        )
        results = {r.taxpayer_id: r for r in ScreeningResult.objects.filter(run=run)}
        assert results[first.pk].eligible and results[second.pk].eligible, [
            (r.regime, r.error_code, r.failed_conditions) for r in results.values()
        ]
        refundable = results[first.pk].refundable_total
        assert refundable > 0

    with time_machine.travel(_at(PUSH_DATE, 7, 30), tick=True):
        # 3. The push date's lists; 4. the service section reminds the candidates by SMS.
        candidate_lists_build(actor=refund_officer, push_date=PUSH_DATE)
        service_list = CandidateList.objects.get(push_date=PUSH_DATE, audience=CandidateList.Audience.SERVICE)
        assert service_list.item_count == 2
        outcome = candidate_list_remind(actor=service_officer, candidate_list=service_list)
        assert outcome.enqueued == 2
        _wait(
            "the reminders' delivery",
            lambda: (
                SmsMessage.objects.filter(recipient__in=["13912345678", "13912345679"], status="delivered").count() == 2
            ),
            worker,
        )
        reminded = {r["mobiles"][0]: r["content"] for r in sim.state.accepted}
        assert "留抵退税" in reminded["13912345678"]

    with time_machine.travel(_at(dt.date(2026, 11, 18), 10), tick=True):
        # 5. Both apply in the e-tax bureau; the applications arrive priced by the rules and are confirmed.
        applications = []
        for taxpayer, document in ((first, "SQ202611180001"), (second, "SQ202611180002")):
            computed = ScreeningResult.objects.get(run=run, taxpayer=taxpayer).refundable_total
            application = application_receive(
                actor=refund_officer,
                taxpayer=taxpayer,
                application_period=PERIOD,
                kind=RefundApplication.Kind.INCREMENTAL,
                claimed_amount=computed,
                received_on=dt.date(2026, 11, 18),
                source=RefundApplication.Source.IMPORT,
                document_number=document,
            )
            assert application.risk_status == RefundApplication.Risk.CLEAR, list(application.risk_hits.values())
            assert application.computed_amount == computed
            # the taxpayer's branch officer confirms; the refund officer approves (岗责分离)
            confirmer = confirming_officer(application.taxpayer)
            applications.append(application_confirm(actor=confirmer, application=application))
        assert all(a.state == RefundApplication.State.REVIEWING for a in applications)
        assert set(CandidateItem.objects.filter(push_date=PUSH_DATE).values_list("stage", flat=True)) == {
            CandidateItem.Stage.APPLIED
        }

    with time_machine.travel(_at(dt.date(2026, 11, 19), 15), tick=True):
        # 6. Batch approval: each re-checked, both pass.
        summary = applications_approve_batch(actor=refund_officer, applications=applications)
        assert len(summary.approved) == 2 and not summary.refused

    paid_on = dt.date(2026, 11, 20)
    with time_machine.travel(_at(paid_on, 16), tick=True):
        # 7. The treasury pays.
        for number, application in enumerate(applications, start=1):
            application.refresh_from_db()
            payment_record(
                actor=refund_officer,
                application=application,
                voucher_number=f"TK20261120{number:04d}",
                amount=application.confirmed_amount,
                paid_on=paid_on,
            )

    with time_machine.travel(_at(dt.date(2026, 11, 21), 8, 30), tick=True):
        # 8. The 08:30 job registers the previous day's refunds and queues the bills (run twice: once each).
        register_previous_day()
        register_previous_day()

    ledger_run = LedgerRun.objects.get(day=paid_on)
    assert ledger_run.status == LedgerRun.Status.SUCCEEDED and ledger_run.entry_count == 2
    entries = list(LedgerEntry.objects.filter(run=ledger_run).order_by("identifier"))
    assert sum(e.amount for e in entries) == ledger_run.total_amount == sum(a.confirmed_amount for a in applications)
    assert {a.state for a in RefundApplication.objects.all()} == {RefundApplication.State.PAID}
    assert set(CandidateItem.objects.values_list("stage", flat=True)) == {CandidateItem.Stage.REFUNDED}

    # 9. The worker sends each finance contact's bill; the simulator accepts it (its mac checked) and reports it.
    _wait(
        "the bills' delivery",
        lambda: (
            SmsMessage.objects.filter(recipient__in=["13800138001", "13800138002"], status="delivered").count() == 2
        ),
        worker,
    )
    counts = sim.state.accepted_counts()
    assert counts["13800138001"] == counts["13800138002"] == 1  # one bill each, however often the job ran
    bill = next(r["content"] for r in sim.state.accepted if r["mobiles"] == ["13800138001"])
    first_entry = next(e for e in entries if e.taxpayer_id == first.pk)
    assert first.name in bill and format_yuan(first_entry.amount) in bill and "2026年11月20日" in bill
    assert Decimal(first_entry.amount) == applications[0].confirmed_amount
