"""The demo county's credit work (演示信用数据): dishonesty events, repair / 复核 / 复评 cases in every state, a few
calls and visits, bank–tax outreach and loans, and the day's predictions.

Why: on the first start of ``make demo`` the credit officer's lists — at risk, to follow, repairable — and the case
queue should have rows, each at-risk row saying what to correct, by when and what it restores.

How, in one transaction (deterministic for a seed and ``today``):

- the 专精特新 and innovative SME recognitions (``sme_flags``) go in through the flags file's apply step;
- the behaviours come from ``demo.county.credit_events`` (each taxpayer's own generator, its odds shifted by the
  rating in force, read through ``credit.selectors``; a few A taxpayers with last month's behaviour still open)
  and go in through credit's bulk path (``credit.bulk``), which checks them as the events file is checked; late
  VAT returns are left to the daily job, which derives them;
- a dozen taxpayers rated by points for the last evaluated year get a case each, driven through
  ``credit.repairs.services`` as the credit officer would (received, under review, raised to the higher bureau,
  answered, granted, partly granted, refused, withdrawn; two left past their 15-working-day due date), on the
  behaviours they corrected after the rating;
- the service section tells a few A/B/M taxpayers (专精特新 first) about credit loans and records the loans some
  obtained (``credit.banktax.services``);
- the daily warnings job (``credit_warnings_daily``) runs, then the credit officer records calls and visits to a
  few taxpayers at risk;
- last, after that transaction, the loop with refund (``refund_loop``): the push date's screening, the 信用修复提示
  on it, a few of those taxpayers repaired to B today and screened again onto today's 即时名单.

Idempotent: nothing is written when any case, bank–tax record or imported event exists.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from accounts.audit import record_event
from accounts.models import User
from accounts.roles import RoleCode
from credit.banktax import selectors as banktax_selectors
from credit.banktax.services import banktax_loan_record, banktax_outreach_record
from credit.bulk import PastEvent, dishonesty_events_backfill
from credit.models import BankTaxOutreach, CreditCase, CreditContact, CreditRating, DishonestyEvent, RatingBasis
from credit.repairs import services as cases
from credit.rules.repair import review_window
from credit.selectors import rating_in_force, with_rating_in_force
from credit.warnings.selectors import warning_list
from credit.warnings.services import credit_contact_record, credit_warnings_daily
from taxpayers.flags import taxpayer_flags_apply
from taxpayers.models import Taxpayer

from .. import county
from ..county.credit_events import CreditSubject, generate_events, recent_lapses, sme_flags
from .refund_loop import LoopResult, rescreens_in_process, run_refund_loop

BANKS = (("示范县农村商业银行", "税易贷"), ("中国建设银行示范县支行", "云税贷"), ("中国工商银行示范县支行", "税务贷"))
CASE_PLAN = (  # (kind, final state, days before today it was received, number of behaviours); the first get the
    # taxpayers closest to B, so that a granted repair can bring them there
    ("repair", "approved", 60, 2),
    ("repair", "partly", 35, 2),
    ("repair", "approved", 45, 1),
    ("repair", "received", 2, 1),
    ("repair", "received", 30, 1),  # past its due date
    ("repair", "reviewing", 8, 1),
    ("repair", "reviewing", 40, 2),  # past its due date
    ("review", "raised", 20, 1),
    ("re_evaluation", "answered", 26, 1),
    ("review", "refused", 50, 1),
    ("repair", "withdrawn", 55, 1),
)


@dataclass
class CreditSeedResult:
    events: int = 0
    flagged: int = 0
    cases: dict[str, int] = field(default_factory=dict)
    outreach: int = 0
    loans: int = 0
    contacts: int = 0
    predicted: int = 0
    loop: LoopResult = field(default_factory=LoopResult)
    seconds: float = 0.0


def credit_demo_exists() -> bool:
    return (
        CreditCase.objects.exists()
        or BankTaxOutreach.objects.exists()
        or DishonestyEvent.objects.filter(source=DishonestyEvent.Source.IMPORTED).exists()
    )


def _officer(role: RoleCode) -> User | None:
    return User.objects.filter(groups__name=role, is_active=True).order_by("pk").first()


def _subjects(today: dt.date) -> list[CreditSubject]:
    codes = [unit.code for unit in county.branch_units(county.MAX_BRANCHES)]
    taxpayers = with_rating_in_force(Taxpayer.objects.filter(branch__code__in=codes), today).order_by("pk")
    return [
        CreditSubject(pk, identifier, registered_on, level or "", industry_code, size)
        for pk, identifier, registered_on, level, industry_code, size in taxpayers.values_list(
            "pk", "identifier", "registered_on", "rating_level", "industry_code", "size"
        )
    ]


def _flags(subjects: list[CreditSubject], seed: int) -> int:
    """The 专精特新 / innovative SME recognitions, through the flags file's apply step; how many were flagged."""
    rows = []
    for subject in subjects:
        specialized, innovative = sme_flags(subject, seed=seed)
        if specialized or innovative:
            rows.append(
                {"taxpayer_id": subject.taxpayer_id, "is_specialized_sme": specialized, "is_innovative_sme": innovative}
            )
    taxpayer_flags_apply(rows=rows)
    return len(rows)


def _case_subjects(today: dt.date, seed: int) -> list[tuple[int, CreditRating]]:
    """Taxpayers rated by points for the last evaluated year, C first and the highest scores first (a repair may
    bring them to B), each with its rating of that year; ties drawn by the seed."""
    year = county.credit_year(today)
    latest: dict[int, CreditRating] = {}
    for rating in CreditRating.objects.filter(year=year, evaluated_on__lte=today).order_by("evaluated_on", "pk"):
        latest[rating.taxpayer_id] = rating
    scored = [r for r in latest.values() if r.score is not None and r.basis == RatingBasis.EVALUATED]
    rng = random.Random(f"{seed}:credit-cases")
    rng.shuffle(scored)
    # C first, the highest scores first (a repair brings them to B), then B and D.
    scored.sort(key=lambda r: ("CBD".find(r.level) if r.level in "CBD" else 9, -r.score))
    return [(r.taxpayer_id, r) for r in scored[: len(CASE_PLAN)]]


def _case_events(taxpayer_id: int, rating: CreditRating, count: int) -> tuple[list[PastEvent], dt.date]:
    """Behaviours of the rated year open when it was rated and corrected a few days after."""
    year, corrected = rating.year, rating.evaluated_on + dt.timedelta(days=5)
    rows = [
        PastEvent(taxpayer_id, "010103", dt.date(year, 10, 16), corrected_on=corrected, note="演示：评价后纠正"),
        PastEvent(
            taxpayer_id, "010101", dt.date(year, 7, 16), tax="企业所得税", amount=Decimal("860.00"),
            corrected_on=corrected, note="演示：评价后纠正",
        ),
    ]  # fmt: skip
    return rows[:count], corrected


def _drive_case(plan, taxpayer: Taxpayer, events: list[DishonestyEvent], received_on, today, officer, result) -> None:
    kind, state, _, _ = plan
    corrections = {e.pk: (e.corrected_on if kind == "repair" else None) for e in events}
    case = cases.credit_case_receive(
        actor=officer, taxpayer=taxpayer, kind=kind, year=events[0].recorded_on.year, corrections=corrections,
        contact_name=taxpayer.finance_contact_name or taxpayer.legal_rep_name or "办税人",
        contact_phone=taxpayer.finance_contact_mobile or taxpayer.legal_rep_mobile or "0571-00000000",
        statement="已补办相关事项，申请按规定修复。" if kind == "repair" else "对该项扣分有异议，申请复核（复评）。",
        received_on=received_on,
    )  # fmt: skip
    step = min(received_on + dt.timedelta(days=3), today)
    if state == "withdrawn":
        cases.credit_case_withdraw(actor=officer, case_id=case.pk, reason="纳税人申请撤回")
    if state in ("received", "withdrawn"):
        result.cases[state] = result.cases.get(state, 0) + 1
        return
    cases.credit_case_review(actor=officer, case_id=case.pk)
    if state in ("raised", "answered"):
        cases.credit_case_raise(
            actor=officer, case_id=case.pk, question="该项扣分所涉事项是否属实，请上级核实。", on=step
        )
    if state == "answered":
        cases.credit_case_answer(actor=officer, case_id=case.pk, answer="经核实，扣分依据充分，请按规定办理。", on=step)
    if state in ("approved", "partly", "refused"):
        granted = [] if state == "refused" else [e.pk for e in events][: 1 if state == "partly" else None]
        reason = "所称异议与记录不符，维持原评价。" if state == "refused" else ""
        cases.credit_case_decide(actor=officer, case_id=case.pk, granted_event_ids=granted, reason=reason, on=step)
    result.cases[state] = result.cases.get(state, 0) + 1


def _cases(today: dt.date, seed: int, officer, result: CreditSeedResult, planned) -> None:
    for plan, (taxpayer_id, rating, corrected) in zip(CASE_PLAN, planned, strict=False):
        received_on = max(today - dt.timedelta(days=plan[2]), corrected + dt.timedelta(days=1))
        if plan[0] == "review":  # 复核 is filed in March of the year after the rated year, before its result is set
            received_on = review_window(rating.year)[0] + dt.timedelta(days=plan[2] // 5)
        if received_on > today:
            continue  # rated too recently for a repair to have been applied for
        events = list(
            DishonestyEvent.objects.filter(taxpayer_id=taxpayer_id, note="演示：评价后纠正").order_by("recorded_on")
        )[: plan[3]]
        taxpayer = Taxpayer.objects.get(pk=taxpayer_id)
        _drive_case(plan, taxpayer, events, received_on, today, officer, result)


def _banktax(today: dt.date, seed: int, officer, result: CreditSeedResult) -> None:
    """The service section told the first taxpayers of its promotion list; some obtained a loan."""
    rng = random.Random(f"{seed}:banktax")
    channels, outcomes = BankTaxOutreach.Channel.values, ["informed", "interested", "applied", "no_need"]
    for taxpayer in list(banktax_selectors.promotion_list(user=officer, on=today)[:12]):
        # Told while today's rating was in force (the one the list was drawn on).
        in_force_since = rating_in_force(taxpayer, today).evaluated_on
        told_on = max(today - dt.timedelta(days=rng.randint(5, 80)), in_force_since)
        outcome = rng.choice(outcomes)
        banktax_outreach_record(
            actor=officer, taxpayer=taxpayer, told_on=told_on, channel=rng.choice(channels), outcome=outcome,
            note="演示：宣传纳税信用贷款", today=today,
        )  # fmt: skip
        result.outreach += 1
        if outcome == "applied" or (outcome == "interested" and rng.random() < 0.5):
            bank, product = rng.choice(BANKS)
            banktax_loan_record(
                actor=officer, taxpayer=taxpayer, bank=bank, product=product,
                amount=Decimal(rng.choice((30, 50, 80, 100, 200, 300))) * 10_000,
                granted_on=min(told_on + dt.timedelta(days=rng.randint(7, 30)), today),
                term_months=rng.choice((6, 12, 12, 24)), today=today,
            )  # fmt: skip
            result.loans += 1


def _contacts(officer, result: CreditSeedResult) -> None:
    """Calls and visits to the first taxpayers at risk (SMS go through the outbox from the lists)."""
    outcomes = [CreditContact.Outcome.WILL_CORRECT, CreditContact.Outcome.REACHED, CreditContact.Outcome.NOT_REACHED]
    for index, prediction in enumerate(warning_list(user=officer, kind="at_risk")[:5]):
        credit_contact_record(
            actor=officer, taxpayer=prediction.taxpayer, kind="call" if index % 2 == 0 else "visit",
            outcome=outcomes[index % len(outcomes)], note="演示：提醒及时纠正",
        )  # fmt: skip
        result.contacts += 1


def build_demo_credit(*, today: dt.date, seed: int = 2026) -> CreditSeedResult | None:
    """Write the demo county's credit work up to ``today``; None when it exists already."""
    if credit_demo_exists():
        return None
    started = time.perf_counter()
    credit_officer, service_officer = _officer(RoleCode.CREDIT_OFFICER), _officer(RoleCode.SERVICE_OFFICER)
    if credit_officer is None or service_officer is None:
        raise ValueError("no credit or service officer: run seed_demo first")
    result = CreditSeedResult()
    subjects = _subjects(today)
    planned, case_rows = [], []
    for taxpayer_id, rating in _case_subjects(today, seed):
        count = CASE_PLAN[len(planned)][3]
        rows, corrected = _case_events(taxpayer_id, rating, count)
        planned.append((taxpayer_id, rating, corrected))
        case_rows.extend(rows)
    case_keys = {(r.taxpayer_id, r.indicator, r.tax, r.recorded_on) for r in case_rows}
    drawn = {}
    for row in [*recent_lapses(subjects, seed=seed, today=today), *generate_events(subjects, seed=seed, today=today)]:
        drawn.setdefault((row.taxpayer_id, row.indicator, row.tax, row.recorded_on), row)
    rows = [row for key, row in drawn.items() if key not in case_keys]
    with rescreens_in_process():
        with transaction.atomic():
            result.flagged = _flags(subjects, seed)
            result.events = dishonesty_events_backfill(
                actor=None, rows=rows + case_rows, today=today, description="示范县演示失信行为"
            )
            _cases(today, seed, credit_officer, result, planned)
            _banktax(today, seed, service_officer, result)
            result.predicted = credit_warnings_daily(today=today).predicted
            _contacts(credit_officer, result)
            record_event(
                actor=None,
                verb="demo_credit_seeded",
                object_type="credit.demo",
                object_repr="示范县演示信用数据",
                summary=(
                    f"生成演示信用数据：专精特新、创新型中小企业 {result.flagged} 户，失信行为 {result.events:,} 条，"
                    f"信用申请 {sum(result.cases.values())} 件，"
                    f"银税互动宣传 {result.outreach} 户、贷款 {result.loans} 笔"
                    f"（随机种子 {seed}，截至 {today.isoformat()}）"
                ),
            )
        result.loop = run_refund_loop(today=today, officer=credit_officer)
    result.seconds = time.perf_counter() - started
    return result
