"""每日退税台账登记: one run per day, each entry registered once and billed once, whatever runs it how often."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from core.errors import ApplicationError
from credit.tests.factories import TaxpayerFactory
from ledger.models import LedgerEntry, LedgerRun
from ledger.services import ledger_register_day, ledger_register_previous_day
from ledger.tests.factories import pay
from notify.models import MessageTemplate, OptOut, SmsMessage

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 25)


def test_registering_a_day_twice_makes_one_run_and_one_bill_per_entry(personas, taxpayer_a, taxpayer_b):
    officer = personas["refund_officer"]
    first = pay(taxpayer_a, officer, voucher="V-1")
    second = pay(taxpayer_b, officer, voucher="V-2", kind="stock", stock="25000.50")
    other_day = pay(TaxpayerFactory(branch=taxpayer_a.branch), officer, voucher="V-3", day=DAY - dt.timedelta(1))

    run = ledger_register_day(day=DAY)
    again = ledger_register_day(day=DAY)

    assert again.pk == run.pk and LedgerRun.objects.count() == 1
    run.refresh_from_db()
    assert (run.status, run.entry_count, run.total_amount, run.bill_count) == ("succeeded", 2, Decimal("125000.50"), 2)
    assert set(run.entries.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert LedgerEntry.objects.get(pk=other_day.pk).run is None
    bills = SmsMessage.objects.order_by("idempotency_key")
    assert [b.idempotency_key for b in bills] == [f"ledger-bill:{first.pk}", f"ledger-bill:{second.pk}"]
    bill = bills.get(idempotency_key=f"ledger-bill:{second.pk}")
    assert bill.recipient == "13912345678"
    assert bill.text == (
        "城西新材料有限公司：您单位的存量留抵退税25,000.50元已于2026年3月25日办理退库，"
        "请注意查收。如有疑问，请联系城西税务分局。【示范县税务局】"
    )
    assert bill.branch_id == taxpayer_b.branch_id and bill.status == "queued"
    assert LedgerEntry.objects.get(pk=second.pk).bill_sms == bill


def test_a_payment_entered_after_the_run_is_registered_by_the_next_run_of_that_day(personas, taxpayer_a, taxpayer_b):
    officer = personas["refund_officer"]
    pay(taxpayer_a, officer, voucher="V-1")
    ledger_register_day(day=DAY)
    late = pay(taxpayer_b, officer, voucher="V-2")

    run = ledger_register_day(day=DAY)

    assert (run.entry_count, run.total_amount, run.bill_count) == (2, Decimal("200000.00"), 2)
    assert LedgerEntry.objects.get(pk=late.pk).run == run
    assert SmsMessage.objects.count() == 2


def test_a_retry_after_a_crash_registers_and_bills_once(personas, taxpayer_a, monkeypatch):
    """The crash rolls back the links and the outbox rows together; the retry does the whole day once."""
    from ledger import services

    pay(taxpayer_a, personas["refund_officer"], voucher="V-1")
    real = services.sms_enqueue

    def crash(**kwargs):
        real(**kwargs)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "sms_enqueue", crash)
    with pytest.raises(RuntimeError):
        ledger_register_day(day=DAY)
    assert not SmsMessage.objects.exists() and LedgerEntry.objects.get().run is None
    monkeypatch.setattr(services, "sms_enqueue", real)

    ledger_register_day(day=DAY)
    ledger_register_day(day=DAY)
    assert SmsMessage.objects.count() == 1 and LedgerRun.objects.get().entry_count == 1


def test_missing_mobile_and_opt_out_are_recorded_as_bill_errors(personas, org):
    officer = personas["refund_officer"]
    no_mobile = pay(TaxpayerFactory(branch=org["branch_a"], finance_contact_mobile=""), officer, voucher="V-1")
    opted = pay(TaxpayerFactory(branch=org["branch_a"], finance_contact_mobile="13700001111"), officer, voucher="V-2")
    bad = pay(TaxpayerFactory(branch=org["branch_a"], finance_contact_mobile="12345"), officer, voucher="V-3")
    OptOut.objects.create(mobile="13700001111")

    run = ledger_register_day(day=DAY)

    assert (run.entry_count, run.bill_count) == (3, 0)
    assert "3 笔未能发送账单" in run.message
    assert LedgerEntry.objects.get(pk=no_mobile.pk).bill_error == "未登记财务负责人手机号码"
    opted = LedgerEntry.objects.get(pk=opted.pk)
    assert opted.bill_error == "号码已退订" and opted.bill_sms.status == "cancelled"
    assert LedgerEntry.objects.get(pk=bad.pk).bill_error == "财务负责人手机号码无效"


def test_an_inactive_template_fails_the_run_and_registers_nothing(personas, taxpayer_a):
    pay(taxpayer_a, personas["refund_officer"], voucher="V-1")
    MessageTemplate.objects.filter(code="ledger_refund_bill").update(active=False)
    with pytest.raises(ApplicationError, match="短信模板“留抵退税退库账单”不存在或已停用") as refused:
        ledger_register_day(day=DAY)
    assert "ledger_refund_bill" not in refused.value.message  # the template by its name, never its code
    run = LedgerRun.objects.get(day=DAY)
    assert run.status == "failed" and "已停用" in run.message
    assert LedgerEntry.objects.get().run is None

    MessageTemplate.objects.filter(code="ledger_refund_bill").update(active=True)
    assert ledger_register_day(day=DAY).status == "succeeded"


def test_the_beat_task_registers_yesterday(personas, taxpayer_a):
    pay(taxpayer_a, personas["refund_officer"], voucher="V-1")
    run = ledger_register_previous_day(today=DAY + dt.timedelta(days=1))
    assert run.day == DAY and run.entry_count == 1


def test_the_command_registers_the_given_day(personas, taxpayer_a):
    pay(taxpayer_a, personas["refund_officer"], voucher="V-1")
    out = StringIO()
    call_command("ledger_register", "--day", DAY.isoformat(), stdout=out)
    assert "2026-03-25: 1 entries, 100,000.00 yuan, 1 bills queued" in out.getvalue()


def test_the_morning_job_is_seeded_at_0830_shanghai():
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    call_command("setup_schedules", stdout=StringIO())
    task = PeriodicTask.objects.get(name="ledger-register-previous-day")
    app.loader.import_default_modules()
    assert task.task == "ledger.register_previous_day" and task.task in app.tasks
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("30", "8", "Asia/Shanghai")
    task.crontab.hour = "9"
    task.crontab.save()
    call_command("setup_schedules", stdout=StringIO())
    assert PeriodicTask.objects.get(name="ledger-register-previous-day").crontab.hour == "9"
