"""事后复核: the scan of a month's paid refunds, and the monthly sample — each rule draws what it should, the draw is
recorded and reproducible, a second run gives the one sample, and the parameters keep their history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from core.errors import ApplicationError
from core.periods import Period
from ledger.services import payment_record
from ledger.tests.factories import approved_application, pay
from risk.jobs import monthly_sample
from risk.models import MonthlySample, SampledRefund, SampleParameterVersion, Scan
from risk.sampling.draw import FOCUS, IMMEDIATE, LARGEST, RANDOM, PaidRefund, SampleRules, draw, random_count
from risk.sampling.selectors import paid_population, sample_parameters_in_force, sample_redraw
from risk.sampling.services import monthly_sample_draw, monthly_sample_previous_month, sample_parameter_change
from risk.services import risk_scan_paid
from taxpayers.models import ComplianceRecord

from .builders import taxpayer

MARCH = Period(2026, 3)
PAID_ON = dt.date(2026, 3, 25)
RULES = SampleRules(focus_sections=("A", "F"), focus_threshold=Decimal("500000"), largest=2, random_pct=Decimal("25"))


def refund(pk: int, amount: str, industry: str = "C3411", immediate: bool = False) -> PaidRefund:
    return PaidRefund(pk, Decimal(amount), industry, immediate)


# --- the draw, pure -------------------------------------------------------------------------------------------


def test_each_rule_draws_what_it_should_on_crafted_refunds():
    population = [
        refund(1, "600000.00", "F5124"),  # focus industry above the threshold
        refund(2, "500000.00", "A0111"),  # focus industry at the threshold: not above
        refund(3, "10000.00", "C3411", immediate=True),  # 即征即退
        refund(4, "900000.00"),  # the largest
        refund(5, "800000.00"),  # the second largest
        *(refund(pk, "1000.00") for pk in range(6, 14)),  # 8 others (with refund 2: 9 left for the random share)
    ]
    drawn = {d.application_id: d.reasons for d in draw(population, RULES, seed=7)}
    assert drawn[1] == (FOCUS,)
    assert drawn[3] == (IMMEDIATE,)
    assert drawn[4] == (LARGEST,) and drawn[5] == (LARGEST,)
    randoms = {pk for pk, reasons in drawn.items() if reasons == (RANDOM,)}
    assert len(randoms) == random_count(9, Decimal("25")) == 2  # 9 × 25% = 2.25 → 2
    assert randoms <= {2, *range(6, 14)}
    assert set(drawn) == {1, 3, 4, 5, *randoms}


def test_a_refund_meeting_several_rules_carries_every_reason_and_the_random_part_takes_only_the_rest():
    population = [refund(1, "2000000.00", "A0111", immediate=True), refund(2, "10.00")]
    drawn = draw(population, SampleRules(("A",), Decimal("1"), 1, Decimal("100")), seed=1)
    assert [(d.application_id, d.reasons) for d in drawn] == [(1, (FOCUS, IMMEDIATE, LARGEST)), (2, (RANDOM,))]


def test_the_same_seed_draws_the_same_refunds_and_another_seed_may_not():
    population = [refund(pk, f"{1000 + pk}.00") for pk in range(1, 201)]
    rules = SampleRules((), Decimal("0"), 0, Decimal("10"))
    first = draw(population, rules, seed=12345)
    assert draw(list(reversed(population)), rules, seed=12345) == first  # the input's order does not matter
    assert len(first) == 20
    assert {d.application_id for d in draw(population, rules, seed=54321)} != {d.application_id for d in first}


def test_the_random_share_rounds_half_up_and_takes_at_least_one():
    assert random_count(10, Decimal("5")) == 1  # 0.5 → 1
    assert random_count(3, Decimal("1")) == 1  # 0.03 → at least one
    assert random_count(0, Decimal("50")) == 0
    assert random_count(10, Decimal("0")) == 0
    assert random_count(4, Decimal("100")) == 4


# --- the scan of paid refunds ---------------------------------------------------------------------------------


def immediate_refund_history(tp, on=dt.date(2025, 6, 1)):
    ComplianceRecord.objects.create(
        taxpayer=tp,
        kind=ComplianceRecord.Kind.IMMEDIATE_REFUND,
        occurred_on=on,
        amount=Decimal("3000.00"),
        document_number=f"即征{tp.pk}",
    )


def test_the_scan_of_a_months_paid_refunds_reads_its_taxpayers_and_names_the_application_paid(personas):
    officer = personas["refund_officer"]
    risky, clean, april = taxpayer(industry_code="C3411"), taxpayer(industry_code="C3411"), taxpayer()
    immediate_refund_history(risky)
    immediate_refund_history(april)
    paid = pay(risky, officer, voucher="P-1")
    pay(clean, officer, voucher="P-2")
    pay(april, officer, voucher="P-3", day=dt.date(2026, 4, 2))
    scan = risk_scan_paid(actor=personas["risk_officer"], period=MARCH)
    assert (scan.kind, str(scan.period), scan.as_of, scan.taxpayer_count) == (
        Scan.Kind.PAID, "2026-03", dt.date(2026, 4, 1), 2,
    )  # fmt: skip
    hits = {(h.taxpayer_id, h.indicator_code, h.application_id) for h in scan.hits.all()}
    assert (risky.pk, "POL_IMMEDIATE_REFUND", paid.application_id) in hits
    assert not any(taxpayer_id == april.pk for taxpayer_id, _, _ in hits)  # paid in April: not this month's
    assert {r.taxpayer_id for r in scan.results.all()} == {risky.pk, clean.pk}  # every taxpayer paid is graded
    assert "POL_IMMEDIATE_REFUND" in scan.parameters_used
    assert str(scan) == "2026年03月已退税 风险扫描"


# --- the monthly sample ---------------------------------------------------------------------------------------


@pytest.fixture
def march(personas):
    """Refunds paid in March 2026: one in commerce above the threshold, one with 即征即退 history, two large ones,
    ten small ones; one paid in two parts; and one paid in April."""
    officer = personas["refund_officer"]
    made = {}
    made["focus"] = pay(taxpayer(industry_code="F5124"), officer, voucher="S-F", incremental="600000", stock="0")
    immediate = taxpayer(industry_code="C3411")
    immediate_refund_history(immediate)
    made["immediate"] = pay(immediate, officer, voucher="S-I", incremental="1000", stock="0")
    made["largest"] = pay(taxpayer(), officer, voucher="S-L1", incremental="900000", stock="100000")
    made["second"] = pay(taxpayer(), officer, voucher="S-L2", incremental="800000", stock="0")
    made["small"] = [
        pay(taxpayer(), officer, voucher=f"S-{n}", incremental=f"{1000 + n}", stock="0") for n in range(10)
    ]
    parts = approved_application(
        taxpayer(), kind="incremental", incremental="300000", stock="0", approved_on=dt.date(2026, 3, 2)
    )
    for day, amount in ((dt.date(2026, 3, 5), "100000.00"), (dt.date(2026, 3, 28), "200000.00")):
        payment_record(actor=officer, application=parts, voucher_number=f"S-P{day.day}", amount=Decimal(amount),
                       paid_on=day)  # fmt: skip
    made["parts"] = parts
    made["april"] = pay(taxpayer(industry_code="F5124"), officer, voucher="S-A", day=dt.date(2026, 4, 1),
                        incremental="700000", stock="0")  # fmt: skip
    return made


def set_parameter(actor, name: str, value: str, on=dt.date(2026, 1, 1)):
    return sample_parameter_change(actor=actor, parameter=name, value=value, effective_from=on, reason="测试")


def test_the_population_is_the_months_refunds_with_parts_added_up(march):
    rows = {row.refund.application_id: row for row in paid_population(MARCH, scan=None)}
    assert len(rows) == 15 and march["april"].application_id not in rows
    assert rows[march["parts"].pk].refund.amount == Decimal("300000.00")
    assert rows[march["parts"].pk].paid_on == dt.date(2026, 3, 28)


def test_the_monthly_sample_draws_each_rule_and_records_seed_parameters_population_and_reasons(personas, march):
    risk_officer = personas["risk_officer"]
    set_parameter(risk_officer, "largest", "2")
    set_parameter(risk_officer, "random_pct", "10")
    sample = monthly_sample_draw(actor=risk_officer, period=MARCH, seed=2026, today=dt.date(2026, 4, 2))
    rows = {row.application_id: row.reasons for row in sample.rows.all()}
    assert rows[march["focus"].application_id] == [FOCUS]
    assert rows[march["immediate"].application_id] == [IMMEDIATE]
    assert rows[march["largest"].application_id] == [LARGEST]
    assert rows[march["second"].application_id] == [LARGEST]
    randoms = [pk for pk, reasons in rows.items() if reasons == [RANDOM]]
    assert len(randoms) == 1  # 11 left (10 small, the one paid in parts) × 10% = 1.1 → 1
    assert march["april"].application_id not in rows
    assert (sample.seed, sample.population_count, sample.sampled_count) == (2026, 15, 5)
    assert sample.population_amount == Decimal("2711045.00")
    assert sample.parameters_used["largest"]["value"] == "2"
    assert sample.parameters_used["focus_sections"] == {"value": "A,F", "version_id": None, "effective_from": None}
    assert sample.scan.kind == Scan.Kind.PAID and str(sample.scan.period) == "2026-03"
    assert sample.drawn_by == risk_officer
    assert len(sample.population_digest) == 64
    largest = sample.rows.get(application_id=march["largest"].application_id)
    assert (largest.amount, largest.identifier, largest.branch_id) == (
        Decimal("1000000.00"), march["largest"].identifier, march["largest"].branch_id,
    )  # fmt: skip
    event = AuditEvent.objects.get(verb="risk.sample_draw", object_id=str(sample.pk))
    assert "随机种子 2026" in event.summary


def test_a_sample_is_reproduced_by_drawing_again_with_what_it_recorded(personas, march):
    sample = monthly_sample_draw(actor=None, period=MARCH, today=dt.date(2026, 4, 2))  # a fresh seed
    digest, drawn = sample_redraw(sample)
    assert digest == sample.population_digest
    stored = [(row.application_id, tuple(row.reasons)) for row in sample.rows.order_by("position")]
    assert [(d.application_id, d.reasons) for d in drawn] == stored
    # Parameters changed since do not move the redraw: it uses the ones the sample recorded.
    set_parameter(personas["risk_officer"], "random_pct", "100")
    assert sample_redraw(sample)[1] == drawn


def test_drawing_a_month_twice_gives_the_one_sample(personas, march):
    first = monthly_sample_draw(actor=None, period=MARCH, today=dt.date(2026, 4, 2))
    again = monthly_sample_draw(actor=personas["risk_officer"], period="2026-03", today=dt.date(2026, 5, 1))
    assert again.pk == first.pk and again.seed == first.seed
    assert MonthlySample.objects.count() == 1
    assert SampledRefund.objects.filter(sample=first).count() == first.sampled_count
    assert Scan.objects.filter(kind=Scan.Kind.PAID).count() == 1
    # Each sampled refund became one review task (事后抽样), made once with the sample.
    from risk.models import RiskTask, TaskSource

    rows = list(SampledRefund.objects.filter(sample=first).select_related("task"))
    assert rows and all(row.task is not None for row in rows)
    assert RiskTask.objects.filter(source=TaskSource.SAMPLING).count() == len(rows)
    assert {(row.task.application_id, row.task.taxpayer_id) for row in rows} == {
        (row.application_id, row.taxpayer_id) for row in rows
    }
    assert "抽中原因" in [line[0] for line in rows[0].task.evidence["lines"]]


def test_the_beat_task_draws_last_months_sample_once(march, time_machine):
    time_machine.move_to(dt.datetime(2026, 4, 2, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    monthly_sample.run()
    monthly_sample.run()
    sample = MonthlySample.objects.get()
    assert str(sample.period) == "2026-03" and sample.drawn_by is None
    assert monthly_sample_previous_month(today=dt.date(2026, 4, 30)).pk == sample.pk


def test_a_month_not_over_cannot_be_drawn(db):
    with pytest.raises(ApplicationError, match="尚未结束"):
        monthly_sample_draw(actor=None, period=MARCH, today=dt.date(2026, 3, 31))


def test_a_month_without_refunds_records_an_empty_sample(db):
    sample = monthly_sample_draw(actor=None, period=MARCH, today=dt.date(2026, 4, 2))
    assert (sample.population_count, sample.sampled_count, sample.population_amount) == (0, 0, Decimal("0.00"))


def test_sample_parameters_keep_their_history_and_take_effect_on_their_day(personas):
    officer = personas["risk_officer"]
    set_parameter(officer, "focus_threshold", "300000", on=dt.date(2026, 2, 1))
    set_parameter(officer, "focus_threshold", "800000", on=dt.date(2026, 5, 1))
    assert sample_parameters_in_force(dt.date(2026, 1, 31))["focus_threshold"].text == "500000"
    assert sample_parameters_in_force(dt.date(2026, 4, 1))["focus_threshold"].text == "300000"
    assert sample_parameters_in_force(dt.date(2026, 5, 1))["focus_threshold"].text == "800000"
    assert SampleParameterVersion.objects.count() == 2
    event = AuditEvent.objects.filter(verb="risk.sample_parameter_change").latest("id")
    assert "500000 → 800000" in event.summary or "300000 → 800000" in event.summary


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("largest", "2.5", "整数"),
        ("random_pct", "120", "不能超过100%"),
        ("focus_sections", "农业", "行业门类"),
        ("focus_threshold", "-1", "不能为负数"),
        ("nothing", "1", "没有这个抽样参数"),
    ],
)
def test_a_wrong_parameter_value_is_refused_in_chinese(personas, name, value, message):
    with pytest.raises(ApplicationError, match=message):
        set_parameter(personas["risk_officer"], name, value)
    assert not SampleParameterVersion.objects.exists()
