"""From database rows to the rules' ``Case`` (``refund.rules.inputs``), built in process: the rules check it
(``validated_case``) as they check the JSON ``manage.py refund_assess`` reads, and ``refund.rules.case_to_json``
writes it as that JSON where one is shown or kept.

Two paths, one meaning:

- ``taxpayer_case``: one taxpayer, its whole return history. The explanation page, the what-if panel,
  ``screen_taxpayer``, the applications and ``manage.py taxpayer_case`` use it.
- ``BatchCaseBuilder``: every taxpayer of a chunk in a handful of queries, reading a bounded
  number of rows per taxpayer whatever the length of history: the returns of the months the
  rules look at, and the ``ReturnState`` row of the tax period, whose running sums stand in for
  the input tax of the older months (see ``_returns``). It serves the taxpayers the
  set-based screening (``refund.screening.sql``) hands back, and every taxpayer on SQLite.
  The property test in ``refund/screening/tests/test_screening_batch.py`` proves the paths agree.

Mapping choices (documented because the database and the contract differ):

- The credit level is the rating in force on the application date (``credit.selectors``: the latest
  evaluation year that had taken effect by that day, a repair or 复评 from its own date). A taxpayer with no
  rating in force then is unrated and passed as ``M``: newly registered enterprises without an evaluation
  are rated M (国家税务总局公告2018年第8号 第一条), which the rules do not let through (only A and B).
- Sales by industry of the 12 tax periods before the application come from
  ``VatReturn.sales_by_industry``; a return without a breakdown counts its ``sales_total``
  under the taxpayer's main industry; when no return in those months has a breakdown there
  are none (the rules then count the main industry as 100%). Each industry's sum is taken to the cent.
- Compliance: 骗取留抵退税、骗取出口退税、虚开增值税专用发票 → ``refund_fraud_or_false_invoice_dates``;
  偷税处罚 → ``tax_evasion_penalty_dates``; 即征即退 enjoyed on or after 2019-04-01 and up to
  the application date → ``immediate_refund_since_2019_04``; repaid up to the application date →
  ``immediate_refund_repaid``.
- Adjustments (arrears, approved-unbooked 免抵退) are read from the tax period's return.
- Previous refunds come from the paid 留抵退税申请 (``RefundApplication`` in state ``paid``):
  its ``paid_incremental`` is a refund of kind ``incremental`` and its ``paid_stock`` one of
  kind ``stock``, both with the application's period and the regime the rules applied to it
  (blank: none). ``VatReturn.credit_refunded`` is not used: it shows that a refund reduced a
  period's credit but not its regime or kind, and the rules only use previous refunds whose
  regime is known (window reuse) or whose kind is ``stock`` (base reset). The set-based path
  reads the same rows through ``previous_refunds_sql`` (the property test in
  ``refund/screening/tests/test_screening_sql.py`` stores paid applications and compares both paths).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from core.industry import parse_industry_code
from core.periods import Period, last_quarter_end_before
from credit.selectors import rating_in_force, rating_in_force_subquery
from taxpayers.models import INPUT_TAX_FIELDS, ComplianceRecord, Taxpayer, VatReturn

from ..models import REFUND_OBTAINED_STATES, RefundApplication, ReturnState
from ..rules.inputs import Adjustments, Case, Compliance, InputTax, PreviousRefund, SizeInputs
from ..rules.inputs import Taxpayer as CaseTaxpayer
from ..rules.inputs import VatReturn as CaseReturn
from ..rules.options import Options
from ..rules.parameters import VOUCHER_GROUPS, VOUCHER_KINDS

ZERO = Decimal("0")
CENT = Decimal("0.01")
NO_CREDIT = Decimal("0.00")  # the synthetic 2019-04 return's: only its input tax counts
NO_SIZE_INPUTS = SizeInputs()
BASE_PERIOD = Period(2019, 3)
RATIO_FIRST = Period(2019, 4)
UNRATED_LEVEL = "M"

TAXPAYER_FIELDS = (
    "id",
    "filing_frequency",
    "general_taxpayer_since",
    "industry_code",
    "size",
    "size_industry",
    "prev_year_vat_sales",
    "prev_year_months_operated",
    "total_assets_prev_year_end",
)
RETURN_FIELDS = (
    "taxpayer_id",
    "period",
    "end_credit",
    "sales_total",
    "sales_by_industry",
    "vat_arrears",
    "approved_unbooked_export_refund",
    *INPUT_TAX_FIELDS,
)
INPUT_COLUMNS = tuple((kind, f"input_{kind}") for kind in VOUCHER_KINDS)
FRAUD_KINDS = (
    ComplianceRecord.Kind.REFUND_FRAUD,
    ComplianceRecord.Kind.EXPORT_REFUND_FRAUD,
    ComplianceRecord.Kind.FALSE_SPECIAL_INVOICE,
)
IMMEDIATE_SINCE = date(2019, 4, 1)
NO_REFUNDS_SQL = (
    "SELECT NULL::bigint AS taxpayer_id, NULL::text AS application_period, NULL::text AS regime, "
    "NULL::text AS kind WHERE false"
)


def tax_period_of(application_period: Period, filing_frequency: str) -> Period:
    """The return the application rests on: the month before, or the last quarter-end before."""
    if filing_frequency == Taxpayer.FilingFrequency.QUARTERLY:
        return last_quarter_end_before(application_period)
    return application_period.minus(1)


# --- parts of the case, shared by both paths -------------------------------------------------------------


def taxpayers_rated(taxpayers: QuerySet, on_date: date) -> QuerySet:
    """``TAXPAYER_FIELDS`` of ``taxpayers`` with ``rating_level``: the level of the rating in force on ``on_date``."""
    return taxpayers.annotate(rating_level=rating_in_force_subquery(on_date)).values(*TAXPAYER_FIELDS, "rating_level")


def level_of(row: dict) -> str:
    """The level the rules get: the rating in force, else unrated (``M``)."""
    return row.get("rating_level") or UNRATED_LEVEL


def level_in_force(taxpayer_id: int, on_date: date) -> str:
    """The level ``taxpayer_of`` starts from for one taxpayer on ``on_date``; "" when unrated (not yet ``M``)."""
    rating = rating_in_force(taxpayer_id, on_date)
    return rating.level if rating else ""


def taxpayer_of(row: dict, *, credit_level: str | None = None, sales: tuple = ()) -> CaseTaxpayer:
    """The registry row as the rules' taxpayer: a given size, else the inputs to classify one (if any)."""
    size_inputs = None
    if not row["size"]:
        size_inputs = SizeInputs(
            industry=row["size_industry"] or None,
            prev_year_vat_sales=row["prev_year_vat_sales"],
            prev_year_months_operated=row["prev_year_months_operated"],
            total_assets_prev_year_end=row["total_assets_prev_year_end"],
        )
        if size_inputs == NO_SIZE_INPUTS:
            size_inputs = None
    return CaseTaxpayer(
        credit_level=credit_level or level_of(row),
        filing_frequency=row["filing_frequency"],
        general_taxpayer_since=row["general_taxpayer_since"],
        industry_code=row["industry_code"] or None,
        sales_12m_by_industry=sales,
        size=row["size"] or None,
        size_inputs=size_inputs,
    )


def sales_12m(
    returns: Iterable[dict], *, main_industry: str, application_period: Period
) -> tuple[tuple[str, Decimal], ...]:
    """VAT sales by industry of the 12 tax periods before the application (none: no return breaks them down)."""
    first, last = application_period.minus(12), application_period.minus(1)
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    broken_down = False
    for row in returns:
        if not first <= row["period"] <= last:
            continue
        breakdown = row["sales_by_industry"] or {}
        if breakdown:
            broken_down = True
            for code, amount in breakdown.items():
                industry = parse_industry_code(code)
                totals[industry.code if industry else code] += Decimal(str(amount))
        elif row["sales_total"]:
            totals[main_industry] += row["sales_total"]
    if not broken_down:
        return ()
    return tuple((code, amount.quantize(CENT)) for code, amount in sorted(totals.items()))


def compliance_of(
    records: Iterable[dict], *, application_date: date, immediate_repaid: bool | None = None
) -> Compliance:
    fraud, evasion = [], []
    immediate = repaid = False
    for record in records:
        kind, day = record["kind"], record["occurred_on"]
        if kind in FRAUD_KINDS:
            fraud.append(day)
        elif kind == ComplianceRecord.Kind.EVASION_PENALTY:
            evasion.append(day)
        elif kind == ComplianceRecord.Kind.IMMEDIATE_REFUND:
            immediate = immediate or IMMEDIATE_SINCE <= day <= application_date
        elif kind == ComplianceRecord.Kind.IMMEDIATE_REFUND_REPAID:
            repaid = repaid or day <= application_date
    return Compliance(
        refund_fraud_or_false_invoice_dates=tuple(sorted(fraud)),
        tax_evasion_penalty_dates=tuple(sorted(evasion)),
        immediate_refund_since_2019_04=immediate,
        immediate_refund_repaid=repaid if immediate_repaid is None else immediate_repaid,
    )


def adjustments_of(tax_return: dict | None) -> Adjustments:
    if tax_return is None:
        return Adjustments()
    return Adjustments(
        approved_unbooked_export_refund=tax_return["approved_unbooked_export_refund"],
        vat_arrears=tax_return["vat_arrears"],
    )


def return_of(row: dict) -> CaseReturn:
    """One return with the voucher kinds it has (a kind it lacks is the rules' 0)."""
    inputs = {kind: row[column] for kind, column in INPUT_COLUMNS if row[column]}
    return CaseReturn(row["period"], row["end_credit"], InputTax(**inputs))


def previous_refunds_for(taxpayer_ids: Iterable[int]) -> dict[int, list[PreviousRefund]]:
    """Earlier refunds by taxpayer: the paid applications (in full or in part, and a stopped one for what was paid
    before the stop), one refund per kind paid."""
    ids = list(taxpayer_ids)
    refunds: dict[int, list[PreviousRefund]] = defaultdict(list)
    if not ids:
        return refunds
    rows = (
        RefundApplication.objects.filter(state__in=REFUND_OBTAINED_STATES, taxpayer_id__in=ids)
        .order_by("taxpayer_id", "application_period")
        .values_list("taxpayer_id", "application_period", "regime", "paid_incremental", "paid_stock")
    )
    for taxpayer_id, period, regime, incremental, stock in rows:
        if incremental:
            refunds[taxpayer_id].append(PreviousRefund(period, regime or None, "incremental", incremental))
        if stock:
            refunds[taxpayer_id].append(PreviousRefund(period, regime or None, "stock", stock))
    return refunds


def previous_refunds_sql() -> str:
    """The same refunds as a relation (taxpayer_id, application_period, regime, kind) for the set-based path.

    Reads only paid applications (in full or in part, or stopped after a part was paid), through the (taxpayer,
    application_period) index for a range of taxpayers; a taxpayer without a paid refund has no row and costs the
    screening nothing.
    """
    table = RefundApplication._meta.db_table
    paid = ", ".join(f"'{state.value}'" for state in REFUND_OBTAINED_STATES)

    def kind(name: str, column: str) -> str:
        columns = "taxpayer_id, application_period::text AS application_period, NULLIF(regime, '')::text AS regime"
        return f"SELECT {columns}, '{name}'::text AS kind FROM {table} WHERE state IN ({paid}) AND {column} > 0"  # noqa: S608

    return f"{kind('incremental', 'paid_incremental')} UNION ALL {kind('stock', 'paid_stock')}"


def _case(
    *,
    taxpayer: dict,
    returns: tuple[CaseReturn, ...],
    sales_rows: Iterable[dict],
    tax_return: dict | None,
    records: Iterable[dict],
    previous_refunds: Iterable[PreviousRefund],
    application_period: Period,
    application_date: date,
    options: Options,
    credit_level: str | None = None,
    immediate_repaid: bool | None = None,
) -> Case:
    sales = sales_12m(sales_rows, main_industry=taxpayer["industry_code"], application_period=application_period)
    return Case(
        application_period=application_period,
        application_date=application_date,
        taxpayer=taxpayer_of(taxpayer, credit_level=credit_level, sales=sales),
        compliance=compliance_of(records, application_date=application_date, immediate_repaid=immediate_repaid),
        returns=returns,
        adjustments=adjustments_of(tax_return),
        previous_refunds=tuple(previous_refunds),
        options=options,
    )


# --- one taxpayer, full history --------------------------------------------------------------------------


def taxpayer_case(
    *,
    taxpayer_id: int,
    application_period: Period,
    application_date: date | None = None,
    options: Mapping[str, str] | None = None,
    credit_level: str | None = None,
    immediate_repaid: bool | None = None,
) -> Case:
    """The case of one taxpayer from every return it has filed (what-if: another level or repayment)."""
    application_date = application_date or application_period.first_day
    taxpayer = taxpayers_rated(Taxpayer.objects.filter(pk=taxpayer_id), application_date).get()
    rows = list(VatReturn.objects.filter(taxpayer_id=taxpayer_id).order_by("period").values(*RETURN_FIELDS))
    tax_period = tax_period_of(application_period, taxpayer["filing_frequency"])
    records = ComplianceRecord.objects.filter(taxpayer_id=taxpayer_id).values("kind", "occurred_on")
    return _case(
        taxpayer=taxpayer,
        returns=tuple(return_of(row) for row in rows),
        sales_rows=rows,
        tax_return=next((row for row in rows if row["period"] == tax_period), None),
        records=records,
        previous_refunds=previous_refunds_for([taxpayer_id]).get(taxpayer_id, []),
        application_period=application_period,
        application_date=application_date,
        options=Options.of(options),
        credit_level=credit_level,
        immediate_repaid=immediate_repaid,
    )


# --- a chunk of taxpayers, bounded rows each -------------------------------------------------------------


class BatchCaseBuilder:
    """Builds the cases of many taxpayers for one application period in five queries per chunk.

    Each taxpayer's returns from January of the year before its earliest possible tax period
    (at most 27 months: the six-month window, the 12 months of sales, the prior December and
    the class-3 ratio period) and the 2019-03 base, plus its ``ReturnState`` of the tax period
    for the ratio's sum from 2019-04 of the months not loaded.
    """

    def __init__(
        self, *, application_period: Period, application_date: date, options: Mapping[str, str] | None = None
    ) -> None:
        self.period = application_period
        self.date = application_date
        self.options = Options.of(options)
        earliest_tax_period = last_quarter_end_before(application_period)  # a quarterly filer's
        self.first_loaded = Period(earliest_tax_period.year - 1, 1)
        self.last_loaded = application_period.minus(1)

    def cases(self, taxpayer_ids: list[int]) -> Iterable[tuple[int, Case]]:
        """(taxpayer id, case) for each id."""
        taxpayers = taxpayers_rated(Taxpayer.objects.filter(pk__in=taxpayer_ids), self.date)
        returns: dict[int, list[dict]] = defaultdict(list)
        for row in (
            VatReturn.objects.filter(taxpayer_id__in=taxpayer_ids)
            .filter(Q(period__gte=self.first_loaded, period__lte=self.last_loaded) | Q(period=BASE_PERIOD))
            .order_by("taxpayer_id", "period")
            .values(*RETURN_FIELDS)
        ):
            returns[row["taxpayer_id"]].append(row)
        records: dict[int, list[dict]] = defaultdict(list)
        for row in ComplianceRecord.objects.filter(taxpayer_id__in=taxpayer_ids).values(
            "taxpayer_id", "kind", "occurred_on"
        ):
            records[row["taxpayer_id"]].append(row)
        states = self._states(taxpayer_ids)
        previous = previous_refunds_for(taxpayer_ids)
        for taxpayer in taxpayers:
            pk = taxpayer["id"]
            rows = returns.get(pk, [])
            tax_period = tax_period_of(self.period, taxpayer["filing_frequency"])
            yield (
                pk,
                _case(
                    taxpayer=taxpayer,
                    returns=self._returns(rows, tax_period, states.get((pk, tax_period))),
                    sales_rows=rows,
                    tax_return=next((row for row in rows if row["period"] == tax_period), None),
                    records=records.get(pk, []),
                    previous_refunds=previous.get(pk, []),
                    application_period=self.period,
                    application_date=self.date,
                    options=self.options,
                ),
            )

    def _states(self, taxpayer_ids: list[int]) -> dict[tuple[int, Period], dict]:
        """The state rows of both possible tax periods (monthly and quarterly filers)."""
        periods = {tax_period_of(self.period, frequency) for frequency in Taxpayer.FilingFrequency.values}
        columns = [f"from_2019_{group}" for group in VOUCHER_GROUPS]
        rows = ReturnState.objects.filter(taxpayer_id__in=taxpayer_ids, period__in=periods).values(
            "taxpayer_id", "period", *columns
        )
        return {(row["taxpayer_id"], row["period"]): row for row in rows}

    def _returns(self, rows: list[dict], tax_period: Period, state: dict | None) -> tuple[CaseReturn, ...]:
        """The loaded returns up to the tax period, and the input tax of the months not loaded on 2019-04.

        The rules sum input tax over [2019-04, tax period] (and over [prior January, tax period],
        all loaded). The months from 2019-04 to before the first loaded month are folded into one
        synthetic return for 2019-04 — their sums by voucher group, the state's sum from 2019-04
        less what was loaded. 2019-04 is never a month the rules read a credit from once the
        loaded months start after it, so only the ratio sees it.
        """
        kept = [row for row in rows if row["period"] <= tax_period]
        out = [return_of(row) for row in kept]
        if state is None or self.first_loaded <= RATIO_FIRST:
            return tuple(out)
        carried: dict[str, Decimal] = {}
        for group, kinds in VOUCHER_GROUPS.items():
            loaded = sum(
                (row[f"input_{kind}"] for row in kept if row["period"] >= RATIO_FIRST for kind in kinds), ZERO
            )
            amount = Decimal(state[f"from_2019_{group}"]).scaleb(-2) - loaded
            if amount:
                carried[kinds[0]] = amount  # the rules only ever count a group whole
        if carried:
            out.append(CaseReturn(RATIO_FIRST, NO_CREDIT, InputTax(**carried)))
        return tuple(sorted(out, key=lambda vat_return: vat_return.period))
