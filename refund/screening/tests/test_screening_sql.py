"""The set-based screening (``refund.screening.sql``) decides every taxpayer exactly as the rules do.

Hypothesis generates taxpayers with long, irregular histories — missing months, quarterly filers,
credits that hover around the 2019-03-31 base and the 500,000 line, sales split across listed and
unlisted industries, every size input, compliance records near the 36-month edge, earlier refunds
of every kind (stored as paid 留抵退税申请, read back by both paths through the hooks of
``refund.screening.case_builder``) — stores them, builds their ``ReturnState`` rows and runs the compiled statement for
periods on both sides of every effective date and under every option. Each taxpayer the SQL
decides must have exactly the stored outcome of ``decide()`` on its full-history case (the rules'
``Case`` built from the database); the ones it hands back must be the documented few.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal

from django.db import connection
from django.test import override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase, TransactionTestCase

from core.periods import Period, period_range
from credit.tests.factories import TaxpayerFactory
from refund.models import ReturnState, ScreeningResult, ScreeningRun
from refund.rules.inputs import PreviousRefund
from refund.rules.options import OPTION_SPECS, parse_options
from refund.screening.case_builder import NO_REFUNDS_SQL, previous_refunds_for, previous_refunds_sql, taxpayer_case
from refund.screening.decisions import decide
from refund.screening.return_states import rebuild_return_states, refresh_stale_aggregates
from refund.screening.services import screening_run_execute
from refund.screening.sql import SqlScreening
from refund.screening.tests.test_screening_batch import outcome, stored_outcome
from refund.tests.applications import paid
from refund.tests.ratings import rating_histories, store_ratings
from taxpayers.models import ComplianceRecord, VatReturn
from taxpayers.tests.factories import BranchFactory

PERIODS = [
    "2019-03", "2019-04", "2019-06", "2019-07", "2019-10", "2020-07", "2021-04", "2021-05", "2022-03", "2022-04",
    "2022-05", "2022-06", "2022-07", "2022-12", "2023-01", "2023-08", "2024-04", "2025-08", "2025-09", "2025-12",
    "2026-01", "2026-02", "2026-03", "2026-07", "2027-12", "2028-01",
]
PERIODS_WEIGHTED = [p for p in PERIODS if p not in ("2019-03", "2028-01")] * 4 + ["2019-03", "2028-01"]
INDUSTRIES = [
    "C3411", "C2710", "C1310", "E4710", "F5123", "K7010", "K7020", "I6510", "G5411", "M7310", "D4411", "N7721",
    "A0111", "H6110", "O8011", "L7111",
]
SIZE_ROWS = ["", "", "industry", "construction", "wholesale", "real_estate_development", "leasing_business_services",
             "other", "software_it"]
REGIME_CODES = [
    None, "CN-2019-39", "CN-2019-84", "CN-2021-15", "CN-2022-14-small-micro", "CN-2022-14-industry",
    "CN-2025-7-class1", "CN-2025-7-class2", "CN-2025-7-class3",
]
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
EXAMPLES = int(os.environ.get("SCREENING_SQL_EXAMPLES", "120"))  # raise it for a deeper search
MONTHS = period_range(Period(2018, 9), Period(2027, 11))
BASE_CREDITS = [Decimal("0"), Decimal("100000.00"), Decimal("480000.00"), Decimal("2000000.00")]
money = st.sampled_from([Decimal("0"), Decimal("0.03"), Decimal("1000.00"), Decimal("120000.50"), Decimal("987654.32")])
thresholds = st.sampled_from(
    [None, Decimal("0"), Decimal("500000.00"), Decimal("999999.99"), Decimal("1000000.00"), Decimal("3000000.00"),
     Decimal("19999999.99"), Decimal("20000000.00"), Decimal("64000000.00"), Decimal("100000000.00"),
     Decimal("470000000.00")]
)


@st.composite
def returns_strategy(draw, quarterly: bool, base: Decimal):
    months = [m for m in MONTHS if m.is_quarter_end] if quarterly else MONTHS
    start = draw(st.integers(0, len(months) // 8)) if draw(st.booleans()) else 0
    credit = draw(st.sampled_from(BASE_CREDITS))
    rows = []
    for month in months[start:]:
        if draw(st.integers(0, 24)) == 0:
            continue  # a missing return now and then
        step = draw(st.sampled_from(["up", "up", "up", "up", "flat", "down", "edge", "jump"]))
        if step == "up":
            credit += Decimal(draw(st.integers(0, 700_000)))
        elif step == "down":
            credit = max(Decimal("0"), credit - Decimal(draw(st.integers(0, 900_000))))
        elif step == "edge":  # on or next to the lines the rules draw
            credit = base + draw(st.sampled_from([Decimal("0"), Decimal("0.01"), Decimal("500000"),
                                                  Decimal("499999.99"), Decimal("-0.01")]))
            credit = max(credit, Decimal("0"))
        elif step == "jump":
            credit = draw(st.sampled_from([*BASE_CREDITS, Decimal("150000000.00")]))
        breakdown = draw(st.sampled_from([
            {}, {}, {}, {"C3411": "700000.00", "F5123": "300000.00"}, {"K7010": "600000.00", "C2710": "400000.00"},
            {"I6510": "500000.00", "E4710": "500000.00"}, {"G5411": "0.00"},
        ]))
        rows.append(
            {
                "period": str(month),
                "end_credit": credit.quantize(Decimal("0.01")),
                "input_special_invoice": draw(money),
                "input_customs": draw(st.sampled_from([Decimal("0"), Decimal("45000.00")])),
                "input_toll_road_e_invoice": draw(st.sampled_from([Decimal("0"), Decimal("800.10")])),
                "input_air_e_invoice": draw(st.sampled_from([Decimal("0"), Decimal("2100.00")])),
                "input_railway_e_ticket": draw(st.sampled_from([Decimal("0"), Decimal("33.33")])),
                "input_agricultural": draw(st.sampled_from([Decimal("0"), Decimal("45000.00")])),
                "input_other": draw(money),
                "sales_total": draw(st.sampled_from([Decimal("0"), Decimal("1000000.00")])),
                "sales_by_industry": breakdown,
                "vat_arrears": draw(st.sampled_from([Decimal("0")] * 6 + [Decimal("1000.00")])),
                "approved_unbooked_export_refund": draw(st.sampled_from([Decimal("0")] * 8 + [Decimal("250000.00")])),
            }
        )
    if quarterly and rows and draw(st.integers(0, 5)) == 0:  # an irregular filer: one monthly return
        month = draw(st.sampled_from(MONTHS))
        if not month.is_quarter_end and str(month) not in {r["period"] for r in rows}:
            rows.append({**rows[-1], "period": str(month)})
    return rows


@st.composite
def taxpayer_data(draw):
    quarterly = draw(st.integers(0, 3)) == 0
    base = draw(st.sampled_from(BASE_CREDITS))
    returns = draw(returns_strategy(quarterly, base))
    if draw(st.integers(0, 3)) > 0:  # the 2019-03 base return, usually there
        returns = [r for r in returns if r["period"] != "2019-03"]
        returns.append({**(returns[0] if returns else {}), "period": "2019-03", "end_credit": base,
                        "sales_by_industry": {}})
    size = draw(st.sampled_from(["", "", "micro", "small", "medium", "large"]))
    records = draw(st.lists(
        st.tuples(
            st.sampled_from([k for k, _ in ComplianceRecord.Kind.choices]),
            st.sampled_from([dt.date(2016, 5, 1), dt.date(2019, 3, 31), dt.date(2019, 4, 1), dt.date(2019, 5, 10),
                             dt.date(2022, 5, 10), dt.date(2023, 1, 9), dt.date(2025, 9, 10), dt.date(2026, 3, 10)]),
        ),
        max_size=3,
    )) if draw(st.integers(0, 3)) == 0 else []
    refunds = draw(st.lists(
        st.fixed_dictionaries({
            "application_period": st.sampled_from(["2019-10", "2022-04", "2022-05", "2022-09", "2022-11", "2023-02",
                                                   "2025-06", "2025-09", "2025-10", "2026-01", "2026-02"]),
            "regime": st.sampled_from(REGIME_CODES),
            "kind": st.sampled_from(["incremental", "incremental", "stock"]),
            "amount": st.just("100000.00"),
        }),
        max_size=2,
    ))
    return {
        "filing_frequency": "quarterly" if quarterly else "monthly",
        "credit_level": draw(st.sampled_from(["A", "A", "A", "A", "B", "B", "M", "C", "D", ""])),
        "general_taxpayer_since": draw(st.sampled_from([
            dt.date(2012, 1, 1), dt.date(2019, 3, 31), dt.date(2019, 4, 1), dt.date(2020, 6, 1),
            dt.date(2024, 12, 31), dt.date(2025, 1, 1),
        ])),
        "industry_code": draw(st.sampled_from(INDUSTRIES)),
        "size": size,
        "size_industry": "" if size else draw(st.sampled_from(SIZE_ROWS)),
        "prev_year_vat_sales": None if size else draw(thresholds),
        "prev_year_months_operated": None if size else draw(st.sampled_from([None, 0, 6, 7, 12])),
        "total_assets_prev_year_end": None if size else draw(thresholds),
        "returns": returns,
        "records": records,
        "refunds": refunds,
        "ratings": draw(rating_histories()),
    }


def _store(data: dict, branch):
    taxpayer = TaxpayerFactory(
        branch=branch,
        credit_year=2014,  # the oldest year: the generated history outranks it wherever one is in force
        **{key: data[key] for key in (
            "filing_frequency", "credit_level", "general_taxpayer_since", "industry_code", "size", "size_industry",
            "prev_year_vat_sales", "prev_year_months_operated", "total_assets_prev_year_end",
        )},
    )
    VatReturn.objects.bulk_create([VatReturn(taxpayer=taxpayer, **row) for row in data["returns"]])
    ComplianceRecord.objects.bulk_create([
        ComplianceRecord(taxpayer=taxpayer, kind=kind, occurred_on=day, document_number=f"文书{i}")
        for i, (kind, day) in enumerate(data["records"])
    ])
    _store_paid_refunds(taxpayer, data["refunds"])
    store_ratings(taxpayer, data["ratings"])
    return taxpayer


def _store_paid_refunds(taxpayer, refunds: list[dict]) -> None:
    """The generated earlier refunds as paid applications: one per period (its incremental and stock parts)."""
    by_period: dict[str, dict] = {}
    for refund in refunds:
        entry = by_period.setdefault(refund["application_period"], {"regime": None, "incremental": 0, "stock": 0})
        entry[refund["kind"]] += Decimal(refund["amount"])
        if entry["regime"] is None or refund["kind"] == "incremental":
            entry["regime"] = refund["regime"]
    for period, entry in by_period.items():
        paid(taxpayer, period=period, regime=entry["regime"] or "", incremental=Decimal(entry["incremental"]),
             stock=Decimal(entry["stock"]))


def _refunds_sql(refunds: dict[int, list[dict]]) -> str:
    rows = [
        f"({pk}, '{r['application_period']}', {'NULL' if r['regime'] is None else repr(r['regime'])}, '{r['kind']}')"
        for pk, items in refunds.items()
        for r in items
    ]
    if not rows:
        return NO_REFUNDS_SQL
    return "SELECT * FROM (VALUES " + ", ".join(rows) + ") AS v(taxpayer_id, application_period, regime, kind)"  # noqa: S608


def screen_with_sql(*, period: Period, day: dt.date, options: dict, refunds: dict[int, list[dict]] | None = None):
    """Run the compiled statement over every taxpayer; (results by taxpayer id, handed-back ids).

    ``refunds`` given: those earlier refunds as a literal relation; None: the paid applications (the hook)."""
    run = ScreeningRun.objects.create(application_period=str(period), application_date=day, options=options)
    statement = SqlScreening(
        application_period=period, application_date=day, options=parse_options(options),
        refunds_sql=previous_refunds_sql() if refunds is None else _refunds_sql(refunds),
    )
    params = {"run": run.pk, "lo": 0, "hi": 2**62}
    with connection.cursor() as cursor:
        cursor.execute(statement.range_sql(), params)
        written, handed_back = cursor.fetchone()
    assert written == ScreeningResult.objects.filter(run=run).count()
    return {r.taxpayer_id: r for r in ScreeningResult.objects.filter(run=run)}, set(handed_back)


def expected_decision(
    taxpayer_id: int, *, period: Period, day: dt.date, options: dict, refunds: list[dict] | None = None
) -> dict:
    """``decide()`` on the full-history case; ``refunds`` (as the contract writes them) replaces the stored paid
    refunds when given."""
    case = taxpayer_case(taxpayer_id=taxpayer_id, application_period=period, application_date=day, options=options)
    if refunds is not None:
        earlier = tuple(
            PreviousRefund(Period.parse(r["application_period"]), r["regime"], r["kind"], Decimal(r["amount"]))
            for r in refunds
        )
        case = dataclasses.replace(case, previous_refunds=earlier)
    return decide(case)


option_sets = st.fixed_dictionaries({}, optional={
    name: st.sampled_from(sorted(spec.choices)) for name, spec in OPTION_SPECS.items()
})


class SqlEqualsRulesTests(TestCase):
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=SLOW)
    @given(
        people=st.lists(taxpayer_data(), min_size=1, max_size=3),
        periods=st.lists(st.sampled_from(PERIODS_WEIGHTED), min_size=1, max_size=3, unique=True),
        day=st.sampled_from([1, 10, 28]),
        options=option_sets,
    )
    def test_every_taxpayer_decided_by_sql_matches_the_rules(self, people, periods, day, options):
        branch = BranchFactory()
        stored = [_store(data, branch) for data in people]
        rebuild_return_states()
        if previous_refunds_for([t.pk for t in stored]):
            event("with paid refunds")
        for text in periods:
            period = Period.parse(text)
            application_date = dt.date(period.year, period.month, day)
            results, handed_back = screen_with_sql(period=period, day=application_date, options=options)
            for taxpayer in stored:
                assert (taxpayer.pk in results) != (taxpayer.pk in handed_back), "decided exactly once"
                if taxpayer.pk in handed_back:
                    event("handed back")
                    continue
                expected = expected_decision(taxpayer.pk, period=period, day=application_date, options=options)
                assert stored_outcome(results[taxpayer.pk]) == outcome(expected), (text, taxpayer.pk)
                event(expected.get("error") or f"{expected['regime']} {'eligible' if expected['eligible'] else 'not'}")


class HandbackTests(TestCase):
    def test_only_the_documented_cases_are_handed_back(self):
        branch = BranchFactory()
        plain = TaxpayerFactory(branch=branch, credit_level="A", size="small")
        odd_quarterly = TaxpayerFactory(branch=branch, filing_frequency="quarterly")
        stock_in_window = TaxpayerFactory(branch=branch, credit_level="A", size="micro")
        for taxpayer in (plain, stock_in_window):
            for month in period_range(Period(2022, 1), Period(2023, 6)):
                VatReturn.objects.create(taxpayer=taxpayer, period=str(month), end_credit=Decimal("800000"))
        for period in ("2022-12", "2023-02", "2023-03", "2023-06"):  # 2023-02 is not a quarter end
            VatReturn.objects.create(taxpayer=odd_quarterly, period=period, end_credit=Decimal("800000"))
        rebuild_return_states()
        refunds = {stock_in_window.pk: [{"application_period": "2023-04", "regime": "CN-2022-14-small-micro",
                                         "kind": "stock", "amount": "1"}]}
        results, handed_back = screen_with_sql(period=Period(2023, 7), day=dt.date(2023, 7, 10), options={},
                                               refunds=refunds)
        assert handed_back == {odd_quarterly.pk, stock_in_window.pk}
        assert set(results) == {plain.pk}


class QuarterlyHandbackTests(TestCase):
    def test_a_quarterly_filer_is_handed_back_only_for_a_return_after_its_quarter(self):
        """P 2023-08: the tax period is 2023-06; a 2023-07 return (a filer that changed to monthly) is
        not in the state of 2023-06, so the rules decide it."""
        branch = BranchFactory()
        plain, changed = (TaxpayerFactory(branch=branch, filing_frequency="quarterly", credit_level="A")
                          for _ in range(2))
        for taxpayer in (plain, changed):
            for period in ("2022-09", "2022-12", "2023-03", "2023-06"):
                VatReturn.objects.create(taxpayer=taxpayer, period=period, end_credit=Decimal("800000"))
        VatReturn.objects.create(taxpayer=changed, period="2023-07", end_credit=Decimal("900000"))
        rebuild_return_states()
        results, handed_back = screen_with_sql(period=Period(2023, 8), day=dt.date(2023, 8, 10), options={},
                                               refunds={})
        assert handed_back == {changed.pk}
        assert set(results) == {plain.pk}


class OutOfRangeTests(TestCase):
    def test_a_period_no_regime_covers_gives_every_taxpayer_out_of_range(self):
        branch = BranchFactory()
        taxpayers = {TaxpayerFactory(branch=branch).pk, TaxpayerFactory(branch=branch).pk}
        period, day = Period(2019, 3), dt.date(2019, 3, 10)
        results, handed_back = screen_with_sql(period=period, day=day, options={}, refunds={})
        assert set(results) == taxpayers and handed_back == set()
        for pk, result in results.items():
            assert result.error_code == expected_decision(pk, period=period, day=day, options={})["error"]
            assert result.error_code == "out_of_range"


class ExactRoundingTests(TestCase):
    def test_half_cent_with_a_ratio_that_never_ends_is_rounded_up_on_both_paths(self):
        """0.03 × 5/6 = 0.025 exactly: half up gives 0.03 (a 28-digit ratio would give 0.02)."""
        taxpayer = TaxpayerFactory(branch=BranchFactory(), credit_level="A", industry_code="C3411")
        VatReturn.objects.create(taxpayer=taxpayer, period="2025-08", end_credit=Decimal("0.03"),
                                 input_special_invoice=Decimal("5.00"), input_other=Decimal("1.00"))
        rebuild_return_states()
        period, day = Period(2025, 9), dt.date(2025, 9, 10)
        results, _ = screen_with_sql(period=period, day=day, options={}, refunds={})
        expected = expected_decision(taxpayer.pk, period=period, day=day, options={}, refunds=[])
        assert expected["regime"] == "CN-2025-7-class1"
        assert expected["refundable_total"] == "0.03"
        assert str(results[taxpayer.pk].refundable_total) == "0.03"
        assert expected["input_ratio"] == "0.833333"


STATE_FIELDS = [f.name for f in ReturnState._meta.concrete_fields if f.name not in ("id", "taxpayer")]


def _states(taxpayer_ids) -> dict:
    return {
        (row["taxpayer"], row["period"]): row
        for row in ReturnState.objects.filter(taxpayer_id__in=taxpayer_ids).values("taxpayer", *STATE_FIELDS)
    }


class IncrementalRebuildTests(TestCase):
    """What an import refreshes (only the changed taxpayers, from the first changed month) equals a full rebuild."""

    @settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
    @given(
        people=st.lists(taxpayer_data(), min_size=1, max_size=3),
        edits=st.lists(
            st.tuples(st.integers(0, 2), st.integers(0, 200), st.sampled_from(["credit", "input", "new", "delete"])),
            min_size=1, max_size=4,
        ),
    )
    def test_refresh_after_changes_equals_a_full_rebuild(self, people, edits):
        branch = BranchFactory()
        taxpayers = [_store(data, branch) for data in people]
        refresh_stale_aggregates()
        for who, where, what in edits:
            taxpayer = taxpayers[who % len(taxpayers)]
            returns = list(VatReturn.objects.filter(taxpayer=taxpayer).order_by("period"))
            if what == "new" or not returns:
                month = MONTHS[where % len(MONTHS)]
                VatReturn.objects.get_or_create(
                    taxpayer=taxpayer, period=str(month), defaults={"end_credit": Decimal("654321.00")}
                )
                continue
            target = returns[where % len(returns)]
            if what == "delete":
                with self.captureOnCommitCallbacks(execute=True):  # the signal rebuilds after commit
                    target.delete()
            elif what == "credit":
                target.end_credit += Decimal("500000.00")
                target.save()
            else:
                target.input_special_invoice += Decimal("1234.56")
                target.sales_by_industry = {"C3411": "10.00"}
                target.save()
        refresh_stale_aggregates()
        ids = [t.pk for t in taxpayers]
        incremental = _states(ids)
        rebuild_return_states()
        assert incremental == _states(ids)


class ParallelRangesTests(TransactionTestCase):
    """Two workers, each range in its own connection: every taxpayer once, the same as one worker."""

    def test_two_workers_write_every_taxpayer_once(self):
        branch = BranchFactory()
        taxpayers = [TaxpayerFactory(branch=branch, credit_level="A", size="small") for _ in range(7)]
        for taxpayer in taxpayers:
            for month in period_range(Period(2025, 1), Period(2026, 2)):
                VatReturn.objects.create(taxpayer=taxpayer, period=str(month), end_credit=Decimal("900000"),
                                         input_special_invoice=Decimal("1000"))
        runs = []
        for workers in (2, 1):
            with override_settings(SCREENING_WORKERS=workers, SCREENING_RANGE_SIZE=2):
                run = ScreeningRun.objects.create(application_period="2026-03", application_date=dt.date(2026, 3, 9))
                screening_run_execute(run_id=run.pk)
                run.refresh_from_db()
                runs.append(run)
        two, one = runs
        assert two.processed_count == two.total_count == 7
        outcomes = [
            {r.taxpayer_id: stored_outcome(r) for r in ScreeningResult.objects.filter(run=run)} for run in runs
        ]
        assert outcomes[0] == outcomes[1]
        assert len(outcomes[0]) == 7
        assert two.eligible_count == one.eligible_count == 7
