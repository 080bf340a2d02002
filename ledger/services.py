"""Every write of the ledger: treasury payments (entered or imported), the morning registration and its bills,
and the credit reduction check (留抵核减核对).

* ``payment_record`` — 退库: writes the ``TreasuryPayment``, adds it to the application's sums paid and moves it
  to 已退库, or to 部分退库 while part is still unpaid (``refund.applications.services.application_mark_paid``, a
  conditional UPDATE), and writes its ``LedgerEntry``, all in one transaction with the audit event; the candidate
  funnel (已退税) is told after commit. What is checked before (``payment_plan``) is in ``ledger.payment_checks``.
* ``payments_import_xlsx`` — the treasury's receipt file (国库退库回执), checked whole, written all or nothing;
  a row whose voucher is already recorded for the same application, amount and date is skipped, so importing
  the same file again pays nothing twice.
* ``ledger_register_day`` — the 08:30 job (每日退税台账登记): links the day's entries to the day's ``LedgerRun``
  and queues each refunded taxpayer's finance contact an SMS bill with one outbox key per entry.
* ``ledger_check_credit_reduction`` — 财政部 税务总局公告2022年第14号 第十二条: after the refund the taxpayer
  must reduce its period-end credit by the refunded amount; the return of the period in which the money was
  paid shows it as 本期留抵退税额 (``VatReturn.credit_refunded``). A return that shows less is flagged.

追缴 (a clawback of paid refund: a reversing entry with its own bill) is ``ledger.clawbacks``. The morning
registration and the credit reduction check are about payments and leave clawback entries alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.audit import record_event
from core.errors import ApplicationError, ConflictError, FileRejected
from core.masking import mask_identifier
from core.money import format_yuan
from core.periods import Period, format_period_cn
from notify.models import MessageTemplate, SmsMessage
from notify.selectors import sendable_template
from notify.services import SmsRejected, sms_enqueue
from refund.applications.services import application_mark_paid
from refund.models import RefundApplication
from taxpayers.models import Taxpayer, VatReturn

from .models import LedgerEntry, LedgerRun, TreasuryPayment
from .payment_checks import PaymentPlan, PaymentRefused, payment_plan

logger = structlog.get_logger(__name__)

ZERO = Decimal("0.00")
BILL_TEMPLATE_CODE = "ledger_refund_bill"
UNSENDABLE = (SmsMessage.Status.FAILED, SmsMessage.Status.CANCELLED)


def _voucher_taken(voucher: str) -> PaymentRefused:
    existing = TreasuryPayment.objects.select_related("application__taxpayer").filter(voucher_number=voucher).first()
    where = f"（{existing.application.taxpayer.name}，{existing.paid_on.isoformat()}）" if existing else ""
    return PaymentRefused(
        f"退库凭证号“{voucher}”已经录入{where}，同一凭证不能重复录入。", field="voucher", code="duplicate_voucher"
    )


def _write_payment(*, actor, application: RefundApplication, plan: PaymentPlan, source: str) -> LedgerEntry:
    """Inside the caller's transaction, with the application row locked by the caller."""
    if TreasuryPayment.objects.filter(voucher_number=plan.voucher_number).exists():
        raise _voucher_taken(plan.voucher_number)
    user = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            payment = TreasuryPayment.objects.create(
                application=application,
                voucher_number=plan.voucher_number,
                amount=plan.amount,
                paid_on=plan.paid_on,
                source=source,
                entered_by=user,
            )
    except IntegrityError:  # another officer recorded the same voucher a moment ago
        raise ConflictError(
            f"退库凭证号“{plan.voucher_number}”刚刚已被他人录入，请刷新页面后查看。",
            code="payment_conflict",
        ) from None
    application_mark_paid(
        application=application,
        actor=actor,
        paid_on=plan.paid_on,
        amount=plan.amount,
        incremental=plan.incremental,
        stock=plan.stock,
        voucher_number=plan.voucher_number,
    )
    taxpayer = application.taxpayer
    entry = LedgerEntry.of_payment(payment, taxpayer=taxpayer, incremental=plan.incremental, stock=plan.stock)
    entry.save()
    record_event(
        actor=actor,
        verb="ledger_payment_record",
        target=entry,
        summary=(
            f"录入退库：{taxpayer.name}（{mask_identifier(taxpayer.identifier)}）{application.get_kind_display()} "
            f"{format_yuan(plan.amount)} 元，凭证号 {plan.voucher_number}，退库日期 {plan.paid_on.isoformat()}"
            + ("（国库回执导入）" if source == TreasuryPayment.Source.IMPORT else "")
            + (
                f"；部分退库，累计已退 {format_yuan(application.paid_amount)} 元，"
                f"尚余 {format_yuan(application.unpaid_amount)} 元待退库"
                if application.state == RefundApplication.State.PARTLY_PAID
                else ""
            )
        ),
        changes={
            "application": application.pk,
            "voucher_number": plan.voucher_number,
            "amount": str(plan.amount),
            "incremental": str(plan.incremental),
            "stock": str(plan.stock),
            "paid_on": plan.paid_on.isoformat(),
            "source": TreasuryPayment.Source(source).label,
        },
    )
    return entry


def _funnel_after_commit(*, refunds: dict[Period, set[int]], actor) -> None:
    """候选名单 funnel: the paid taxpayers' candidate items of each application period move to 已退税."""

    def notify() -> None:
        from refund.candidates.services import candidate_items_mark_refunded

        for period, taxpayer_ids in refunds.items():
            candidate_items_mark_refunded(taxpayer_ids=sorted(taxpayer_ids), application_period=period, actor=actor)

    transaction.on_commit(notify, robust=True)


def _locked_application(application: RefundApplication) -> RefundApplication:
    # Other officers (or the import) may be paying, or the workflow helper acting on, the same application:
    # lock it so the checks below read the state the UPDATE will see.
    locked = (
        RefundApplication.objects.select_related("taxpayer").select_for_update(of=("self",)).filter(pk=application.pk)
    ).first()
    if locked is None:
        raise ApplicationError("该申请不存在或已被删除。", code="not_found")
    return locked


def payment_record(
    *,
    actor,
    application: RefundApplication,
    voucher_number: str,
    amount,
    paid_on: dt.date,
    incremental=None,
    stock=None,
    source: str = TreasuryPayment.Source.MANUAL,
) -> LedgerEntry:
    """退库: record the treasury's payment of an approved application and write its ledger entry."""
    with transaction.atomic():
        locked = _locked_application(application)
        plan = payment_plan(
            application=locked,
            voucher_number=voucher_number,
            amount=amount,
            paid_on=paid_on,
            incremental=incremental,
            stock=stock,
        )
        entry = _write_payment(actor=actor, application=locked, plan=plan, source=source)
        _funnel_after_commit(refunds={locked.application_period: {locked.taxpayer_id}}, actor=actor)
    for name in ("state", "state_changed_at", "paid_on", "paid_amount", "paid_incremental", "paid_stock"):
        setattr(application, name, getattr(locked, name))
    return entry


# --- 国库退库回执导入 -------------------------------------------------------------------------------------------


class PaymentImportRejected(FileRejected):
    code = "payment_import_rejected"
    message_template = "文件有 {count} 处错误，未导入任何退库记录。请按错误明细修改后重新上传。"


@dataclass
class PaymentImportOutcome:
    created: list[LedgerEntry] = field(default_factory=list)
    skipped: int = 0  # rows already recorded (the same file imported again)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_amount(self) -> Decimal:
        return sum((entry.amount for entry in self.created), ZERO)


def payments_import_xlsx(*, actor, file, today: dt.date | None = None) -> PaymentImportOutcome:
    """Import the treasury's receipt file (``ledger.receipts`` describes its columns): every row checked, then
    all written in one transaction, or nothing and ``PaymentImportRejected`` with each row's errors."""
    from .receipts import RowError, read_receipts

    today = today or timezone.localdate()
    check = read_receipts(file, getattr(file, "name", "") or "回执.xlsx", today=today)
    outcome = PaymentImportOutcome(warnings=list(check.warnings))
    # The file's own errors and the rows' business errors are reported together, so one upload shows them all.
    errors: list[RowError] = list(check.errors)
    with transaction.atomic():
        ids = [row.application_id for row in check.rows]
        applications = {
            app.pk: app
            for app in RefundApplication.objects.select_related("taxpayer")
            .select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
        }
        existing = {
            p.voucher_number: p
            for p in TreasuryPayment.objects.filter(voucher_number__in=[row.voucher_number for row in check.rows])
        }
        # Each row is written as soon as it is checked, so a later row of the same application (the treasury
        # paying it in parts) is checked against what is then still unpaid; any error rolls all of them back.
        refunds: dict[Period, set[int]] = defaultdict(set)
        for row in check.rows:
            application = applications[row.application_id]
            before = existing.get(row.voucher_number)
            if before is not None:
                if (
                    before.application_id == application.pk
                    and before.amount == row.amount
                    and before.paid_on == row.paid_on
                ):
                    outcome.skipped += 1  # already imported: nothing to do
                    continue
                errors.append(
                    RowError(
                        row.row,
                        row.headers["voucher"],
                        row.voucher_number,
                        f"退库凭证号已录入（{before.paid_on.isoformat()}，{format_yuan(before.amount)} 元），"
                        "但申请、金额或日期与本行不同，请核对。",
                    )
                )
                continue
            try:
                plan = payment_plan(
                    application=application,
                    voucher_number=row.voucher_number,
                    amount=row.amount,
                    paid_on=row.paid_on,
                    incremental=row.incremental,
                    stock=row.stock,
                    today=today,
                )
            except PaymentRefused as exc:
                column, value = {
                    "voucher": (row.headers["voucher"], row.voucher_number),
                    "application": (row.headers["application"], row.application_text),
                    "paid_on": (row.headers["paid_on"], row.paid_on.isoformat()),
                }.get(exc.field, (row.headers["amount"], format_yuan(row.amount)))
                errors.append(RowError(row.row, column, value, exc.message))
                continue
            entry = _write_payment(
                actor=actor, application=application, plan=plan, source=TreasuryPayment.Source.IMPORT
            )
            outcome.created.append(entry)
            refunds[application.application_period].add(application.taxpayer_id)
            if application.state == RefundApplication.State.PARTLY_PAID:
                outcome.warnings.append(
                    f"第 {row.row} 行：{application.taxpayer.name} 部分退库 {format_yuan(plan.amount)} 元，"
                    f"累计已退 {format_yuan(application.paid_amount)} 元，尚余 "
                    f"{format_yuan(application.unpaid_amount)} 元待退库。"
                )
        if errors:
            errors.sort(key=lambda error: (error.row, error.column))
            transaction.set_rollback(True)
            raise PaymentImportRejected(errors, check.warnings)
        record_event(
            actor=actor,
            verb="import",
            object_type="ledger.treasurypayment",
            object_repr=f"国库退库回执 {getattr(file, 'name', '')}"[:200],
            summary=(
                f"导入国库退库回执“{getattr(file, 'name', '')}”：新增退库 {len(outcome.created)} 笔，"
                f"合计 {format_yuan(outcome.total_amount)} 元；此前已导入 {outcome.skipped} 笔"
            ),
            changes={"created": len(outcome.created), "skipped": outcome.skipped, "rows": len(check.rows)},
        )
        if refunds:
            _funnel_after_commit(refunds=refunds, actor=actor)
    return outcome


# --- 每日退税台账登记 and the bill -----------------------------------------------------------------------------


def bill_template() -> MessageTemplate:
    return sendable_template(BILL_TEMPLATE_CODE, name="留抵退税退库账单", to_do="发送账单", then="重新登记")


def bill_key(entry: LedgerEntry) -> str:
    return f"ledger-bill:{entry.pk}"


def bill_variables(entry: LedgerEntry) -> dict:
    return {
        "taxpayer_name": entry.name,
        "refund_kind": entry.get_refund_kind_display(),
        "amount": format_yuan(entry.amount),
        "paid_on": f"{entry.paid_on.year}年{entry.paid_on.month}月{entry.paid_on.day}日",
        "branch_name": entry.branch.name,
    }


def _queue_bill(
    *,
    entry: LedgerEntry,
    taxpayer: Taxpayer,
    template: MessageTemplate,
    actor,
    key: str | None = None,
    variables: dict | None = None,
    title: str = "退税账单",
) -> None:
    """The bill to the finance contact (财务负责人); a missing or refused number is kept as ``bill_error``. A payment's
    bill by default; a clawback (``ledger.clawbacks``) gives its own key, variables and title."""
    mobile = (taxpayer.finance_contact_mobile or "").strip()
    if not mobile:
        entry.bill_error = "未登记财务负责人手机号码"
        return
    try:
        message = sms_enqueue(
            to=mobile,
            idempotency_key=key or bill_key(entry),
            template=template,
            variables=variables if variables is not None else bill_variables(entry),
            related_object=entry,
            related=f"{title} {entry.paid_on.isoformat()} {mask_identifier(entry.identifier)}",
            branch_id=entry.branch_id,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
    except SmsRejected as exc:
        entry.bill_error = ("财务负责人手机号码无效" if exc.code == "invalid_mobile" else exc.message)[:200]
        return
    entry.bill_sms = message
    if message.status in UNSENDABLE:
        entry.bill_error = (message.error_message or "短信未能发出")[:200]
    else:
        entry.bill_error = ""


def ledger_register_day(*, day: dt.date, actor=None) -> LedgerRun:
    """每日退税台账登记 of ``day``'s payments: one ``LedgerRun`` per day (unique), whatever runs it how often.

    The run row is locked for the whole registration, so the 08:30 job, a retry and an officer's click
    serialise; each entry not yet registered is linked to the run and its bill queued under the key
    ``ledger-bill:<entry id>`` in the same transaction — a crash rolls both back, a second run finds nothing
    left and queues nothing. Payments of ``day`` entered after the run are registered by the next run of it.
    """
    try:
        template = bill_template()
    except ApplicationError as exc:
        with transaction.atomic():
            run, _ = LedgerRun.objects.get_or_create(day=day)
            LedgerRun.objects.filter(pk=run.pk).exclude(status=LedgerRun.Status.SUCCEEDED).update(
                status=LedgerRun.Status.FAILED, finished_at=timezone.now(), message=exc.message[:500]
            )
        raise
    with transaction.atomic():
        run, _ = LedgerRun.objects.get_or_create(day=day)
        run = LedgerRun.objects.select_for_update().get(pk=run.pk)
        entries = list(
            LedgerEntry.objects.select_for_update(of=("self",))
            .select_related("taxpayer", "branch")
            .filter(paid_on=day, run__isnull=True, kind=LedgerEntry.Kind.PAYMENT)
            .order_by("pk")
        )
        if not entries and run.status == LedgerRun.Status.SUCCEEDED:
            return run  # registered before and nothing new since: a retry or a second click changes nothing
        for entry in entries:
            entry.run = run
            _queue_bill(entry=entry, taxpayer=entry.taxpayer, template=template, actor=actor)
        LedgerEntry.objects.bulk_update(entries, ["run", "bill_sms", "bill_error"], batch_size=500)
        totals = run.entries.aggregate(
            count=Count("pk"),
            amount=Sum("amount"),
            bills=Count("pk", filter=Q(bill_sms__isnull=False) & ~Q(bill_sms__status__in=UNSENDABLE)),
        )
        run.entry_count = totals["count"]
        run.total_amount = totals["amount"] or ZERO
        run.bill_count = totals["bills"]
        run.status = LedgerRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        unbilled = sum(1 for entry in entries if entry.bill_error)
        run.message = (
            f"本次登记 {len(entries)} 笔" + (f"，{unbilled} 笔未能发送账单（见台账“账单”列）" if unbilled else "")
        )[:500]
        run.save()
        record_event(
            actor=actor,
            verb="ledger_register",
            target=run,
            summary=(
                f"登记 {day.isoformat()} 退税台账：新登记 {len(entries)} 笔，当日共 {run.entry_count} 笔 "
                f"{format_yuan(run.total_amount)} 元，账单短信 {run.bill_count} 条"
            ),
            changes={"registered": [entry.pk for entry in entries][:1000], "unbilled": unbilled},
        )
    logger.info("ledger_day_registered", day=day.isoformat(), registered=len(entries), total=run.entry_count)
    return run


def ledger_register_previous_day(*, today: dt.date | None = None) -> LedgerRun:
    """The beat entry (08:30 Asia/Shanghai): yesterday's payments."""
    today = today or timezone.localdate()
    return ledger_register_day(day=today - dt.timedelta(days=1))


# --- 留抵核减核对 -----------------------------------------------------------------------------------------------


def return_period_of(paid_on: dt.date, filing_frequency: str) -> Period:
    """The tax period whose return must show the refund: the month of payment (a quarterly filer: its quarter,
    stored under the quarter's last month)."""
    month = paid_on.month
    if filing_frequency == Taxpayer.FilingFrequency.QUARTERLY:
        month = ((month - 1) // 3 + 1) * 3
    return Period(paid_on.year, month)


def ledger_check_credit_reduction(*, taxpayer_ids=None) -> dict[str, int]:
    """Compare each unchecked (or flagged) entry with the return of its payment period, when that return exists.

    The return's 本期留抵退税额 must be at least the sum of the taxpayer's refunds paid in that period; an entry
    whose return is not in yet stays 待核对. A flagged entry is checked again, so a corrected return clears it.
    """
    entries = LedgerEntry.objects.filter(
        credit_check__in=[LedgerEntry.CreditCheck.PENDING, LedgerEntry.CreditCheck.NOT_REDUCED]
    ).select_related("taxpayer")
    if taxpayer_ids is not None:
        entries = entries.filter(taxpayer_id__in=list(taxpayer_ids))
    pending = list(entries.order_by("pk"))
    if not pending:
        return {"reduced": 0, "not_reduced": 0, "pending": 0}
    keys = {(e.taxpayer_id, return_period_of(e.paid_on, e.taxpayer.filing_frequency)) for e in pending}
    taxpayers = {t for t, _ in keys}
    returns = {
        (r.taxpayer_id, r.period): r
        for r in VatReturn.objects.filter(taxpayer_id__in=taxpayers, period__in={p for _, p in keys}).only(
            "taxpayer_id", "period", "credit_refunded"
        )
    }
    # Every refund of the taxpayer paid in a period counts against that period's return, checked or not.
    paid: dict[tuple[int, Period], Decimal] = defaultdict(Decimal)
    # Payments only: a clawback (追缴) is no reduction of credit, and must not make a missing one look made.
    payments = LedgerEntry.objects.filter(taxpayer_id__in=taxpayers, kind=LedgerEntry.Kind.PAYMENT)
    for taxpayer_id, paid_on, amount, frequency in payments.values_list(
        "taxpayer_id", "paid_on", "amount", "taxpayer__filing_frequency"
    ):
        paid[(taxpayer_id, return_period_of(paid_on, frequency))] += amount
    result = {"reduced": 0, "not_reduced": 0, "pending": 0}
    changed = []
    for entry in pending:
        period = return_period_of(entry.paid_on, entry.taxpayer.filing_frequency)
        vat_return = returns.get((entry.taxpayer_id, period))
        if vat_return is None:
            result["pending"] += 1
            continue
        due = paid[(entry.taxpayer_id, period)]
        shown = vat_return.credit_refunded
        if shown >= due:
            status = LedgerEntry.CreditCheck.REDUCED
            note = (
                f"{format_period_cn(period)}申报表本期留抵退税额 {format_yuan(shown)} 元，"
                f"不低于当期退库 {format_yuan(due)} 元"
            )
        else:
            status = LedgerEntry.CreditCheck.NOT_REDUCED
            note = (
                f"{format_period_cn(period)}申报表本期留抵退税额 {format_yuan(shown)} 元，低于当期退库 "
                f"{format_yuan(due)} 元：留抵税额未按退税额核减，请核实并辅导纳税人更正申报"
            )
        result[status] += 1
        if (entry.credit_check, entry.credit_check_period, entry.credit_check_note) != (status, period, note):
            entry.credit_check, entry.credit_check_period, entry.credit_check_note = status, period, note[:300]
            changed.append(entry)
    if changed:
        with transaction.atomic():
            LedgerEntry.objects.bulk_update(
                changed, ["credit_check", "credit_check_period", "credit_check_note"], batch_size=500
            )
            flagged = [e.pk for e in changed if e.credit_check == LedgerEntry.CreditCheck.NOT_REDUCED]
            record_event(
                actor=None,
                verb="ledger_credit_check",
                object_type="ledger.ledgerentry",
                object_repr="留抵核减核对",
                summary=f"留抵核减核对：{len(changed) - len(flagged)} 笔已核减，{len(flagged)} 笔未核减留抵",
                changes={"checked": [e.pk for e in changed][:1000], "not_reduced": flagged[:1000]},
            )
    return result
