"""The key proof of issue 3: batch screening (bounded rows + aggregates) gives, for every taxpayer,
exactly the decision of the rules on the full-history case of the single-taxpayer path, and that
case written as JSON and fed to ``manage.py refund_assess`` gives the same again. Both builders' cases
read back from their JSON as they were built."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import tempfile
from decimal import Decimal

from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from core.periods import Period, period_range
from credit.tests.factories import TaxpayerFactory
from refund.models import ReturnState, ScreeningRun
from refund.rules import case_to_json, parse_case
from refund.screening.case_builder import BatchCaseBuilder, taxpayer_case
from refund.screening.decisions import decide
from refund.screening.return_states import rebuild_return_states
from refund.screening.services import screening_run_execute
from refund.tests.ratings import rating_histories, store_ratings
from taxpayers.models import ComplianceRecord, VatReturn
from taxpayers.tests.factories import BranchFactory

APPLICATION_PERIODS = [
    "2020-05", "2021-02", "2022-05", "2022-08", "2023-04", "2024-07", "2025-02", "2025-10", "2026-03"
]
INDUSTRIES = ["C3411", "E4710", "F5123", "K7010", "I6510", "D4411"]
amounts = st.one_of(
    st.just(Decimal("0")),
    st.integers(min_value=0, max_value=8_000_000_00).map(lambda cents: Decimal(cents) / 100),
)


@st.composite
def taxpayer_data(draw):
    quarterly = draw(st.booleans()) and draw(st.booleans())
    months = period_range(Period(2018, 10), Period(2026, 2))
    if quarterly:
        months = [m for m in months if m.is_quarter_end]
    returns = []
    credit = draw(amounts)
    for month in months:
        if draw(st.integers(0, 19)) == 0:
            continue  # a missing return now and then
        step = draw(st.sampled_from(["up", "up", "flat", "down", "jump"]))
        if step == "up":
            credit += draw(st.integers(0, 600_000))
        elif step == "down":
            credit = max(Decimal("0"), credit - draw(st.integers(0, 900_000)))
        elif step == "jump":
            credit = draw(amounts)
        special = draw(st.sampled_from([Decimal("0"), Decimal("120000.50"), Decimal("987654.32")]))
        returns.append(
            {
                "period": str(month),
                "end_credit": Decimal(credit).quantize(Decimal("0.01")),
                "input_special_invoice": special,
                "input_other": draw(st.sampled_from([Decimal("0"), Decimal("5000.00"), Decimal("300000.00")])),
                "input_toll_road_e_invoice": draw(st.sampled_from([Decimal("0"), Decimal("800.10")])),
                "input_agricultural": draw(st.sampled_from([Decimal("0"), Decimal("45000.00")])),
                "sales_total": Decimal("1000000.00"),
                "sales_by_industry": draw(st.sampled_from([{}, {}, {"C3411": "700000", "F5123": "300000"}])),
                "vat_arrears": draw(st.sampled_from([Decimal("0")] * 5 + [Decimal("1000.00")])),
            }
        )
    records = draw(
        st.lists(
            st.tuples(
                st.sampled_from([k for k, _ in ComplianceRecord.Kind.choices]),
                st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2026, 3, 31)),
            ),
            max_size=2,
        )
    )
    return {
        "filing_frequency": "quarterly" if quarterly else "monthly",
        "credit_level": draw(st.sampled_from(["A", "A", "B", "M", "C", ""])),
        "general_taxpayer_since": draw(
            st.sampled_from([dt.date(2012, 1, 1), dt.date(2020, 6, 1), dt.date(2023, 3, 1)])
        ),
        "industry_code": draw(st.sampled_from(INDUSTRIES)),
        "size": draw(st.sampled_from(["micro", "small", "medium", "large", ""])),
        "returns": returns,
        "records": records,
        "ratings": draw(rating_histories()),
    }


def _store(data: dict, branch):
    taxpayer = TaxpayerFactory(
        branch=branch,
        filing_frequency=data["filing_frequency"],
        credit_level=data["credit_level"],
        credit_year=2014,  # the oldest year: the generated history outranks it wherever one is in force
        general_taxpayer_since=data["general_taxpayer_since"],
        industry_code=data["industry_code"],
        size=data["size"],
        size_industry="industry" if not data["size"] else "",
        prev_year_vat_sales=Decimal("30000000.00") if not data["size"] else None,
    )
    VatReturn.objects.bulk_create([VatReturn(taxpayer=taxpayer, **row) for row in data["returns"]])
    ComplianceRecord.objects.bulk_create(
        [
            ComplianceRecord(taxpayer=taxpayer, kind=kind, occurred_on=day, document_number=f"文书{i}")
            for i, (kind, day) in enumerate(data["records"])
        ]
    )
    store_ratings(taxpayer, data["ratings"])
    return taxpayer


def _command(data: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        out = io.StringIO()
        with contextlib.suppress(SystemExit):  # exit 2: the error object was printed
            call_command("refund_assess", handle.name, "--trace", stdout=out)
        return json.loads(out.getvalue())


MONEY = (
    "current_credit", "base_credit", "incremental_credit", "stock_credit",
    "refundable_incremental", "refundable_stock", "refundable_total",
)


def outcome(decision: dict) -> dict:
    """What a screening result keeps of the contract output."""
    if "error" in decision:
        return {"error": decision["error"]}
    kept = {key: decision[key] for key in ("regime", "eligible", "size", "input_ratio", "refund_rate", *MONEY)}
    kept["failed_conditions"] = [c["code"] for c in decision["conditions"] if not c["passed"]]
    return kept


def stored_outcome(result) -> dict:
    if result.error_code:
        return {"error": result.error_code}
    kept = {
        "regime": result.regime or None,
        "eligible": result.eligible,
        "size": result.size or None,
        "input_ratio": None if result.input_ratio is None else str(result.input_ratio),
        "refund_rate": result.refund_rate or None,
        "failed_conditions": result.failed_conditions,
    }
    kept.update({key: None if getattr(result, key) is None else str(getattr(result, key)) for key in MONEY})
    return kept


class BatchEqualsSingleTests(TestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        people=st.lists(taxpayer_data(), min_size=1, max_size=3),
        period=st.sampled_from(APPLICATION_PERIODS),
        day=st.integers(1, 28),
    )
    def test_batch_equals_single_path_and_command(self, people, period, day):
        branch = BranchFactory()
        taxpayers = [_store(data, branch) for data in people]
        application = Period.parse(period)
        run = ScreeningRun.objects.create(
            application_period=period, application_date=dt.date(application.year, application.month, day)
        )
        screening_run_execute(run_id=run.pk)
        run.refresh_from_db()
        assert run.status == ScreeningRun.Status.SUCCEEDED
        assert run.processed_count == len(taxpayers)
        results = {r.taxpayer_id: r for r in run.results.all()}
        assert set(results) == {t.pk for t in taxpayers}
        for taxpayer in taxpayers:
            single = taxpayer_case(
                taxpayer_id=taxpayer.pk, application_period=application, application_date=run.application_date
            )
            expected = json.loads(json.dumps(decide(single)))
            assert stored_outcome(results[taxpayer.pk]) == outcome(expected)
            assert _command(case_to_json(single)) == expected
            assert parse_case(case_to_json(single)) == single
        batch = BatchCaseBuilder(application_period=application, application_date=run.application_date)
        for _, case in batch.cases([t.pk for t in taxpayers]):
            assert parse_case(case_to_json(case)) == case


class ReturnStateTests(TestCase):
    def test_sums_start_in_2019_04_and_the_prior_january(self):
        taxpayer = TaxpayerFactory()
        rows = [("2019-03", "7"), ("2019-04", "10"), ("2019-12", "5"), ("2020-02", "1.25"), ("2021-07", "2")]
        for period, amount in rows:
            VatReturn.objects.create(taxpayer=taxpayer, period=period, input_customs=Decimal(amount))
        rebuild_return_states()
        states = {s.period: s for s in ReturnState.objects.filter(taxpayer=taxpayer)}
        assert [str(p) for p in sorted(states)] == ["2019-03", "2019-04", "2019-12", "2020-02", "2021-07"]
        assert states[Period(2019, 3)].from_2019_core == 0  # before the ratio period
        assert states[Period(2019, 12)].from_2019_core == 1500  # fen
        assert states[Period(2021, 7)].from_2019_core == 1825
        assert states[Period(2021, 7)].from_prior_january_core == 325  # 2020-01 … 2021-07
        assert states[Period(2021, 7)].from_2019_other == 0
