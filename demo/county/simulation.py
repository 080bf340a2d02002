"""One taxpayer's monthly VAT returns since 2019-03: sales, input and output tax, the credit and refunds taken.

The credit follows the taxpayer's archetype (``industries``): ``plan`` shapes it month by month — an explicit
credit increase, or a coverage ratio of input to output tax — and the simulation settles each month as a return
does (期末留抵 = 上期留抵 − 留抵退税 + 进项 − 转出 − 销项 + 应纳税额). Amounts are integer fen.

Every draw comes from the taxpayer's own generator, in a fixed order: same seed, same returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from taxpayers.bulk import ReturnRow

from .industries import (
    DEVELOPER,
    DIVISIONS_2022,
    DIVISIONS_2025_CLASS1,
    EXPORTER,
    GROWER,
    INVESTOR,
    PAYER,
    SEASONAL,
    SECTIONS_2022,
    SECTIONS_2025_CLASS1,
    STOCK,
    enterprise_size,
)
from .months import lognormal, month_index


@dataclass
class _Plan:
    """Per month: an explicit credit increase (fen) or a coverage ratio (input ÷ output tax), and the credit
    carried into 2019-03."""

    start: int
    end: int
    boost: dict[int, int] = field(default_factory=dict)
    cover: dict[int, float] = field(default_factory=dict)
    opening: int = 0


@dataclass
class _Run:
    """What one taxpayer's simulation carries from month to month (``MonthlyReturns._start`` draws it)."""

    plan: _Plan
    credit: int = 0
    base_credit: int = 0
    growth: float = 1.0
    season_amp: float = 0.0
    season_peak: int = 1
    export_share: float = 0.0
    ratio: float = 1.0  # share of the seven voucher kinds (for refunds taken)
    shares: tuple[float, ...] = ()
    refund_taker: bool = False
    section_2022: bool = False
    class1: bool = False
    arrears_from: int | None = None
    stock_refund_month: int | None = None
    quarter: list[tuple] = field(default_factory=list)
    prev_year_sales: int = 0
    months_operated: int = 0
    last_boost_month: int | None = None


class MonthlyReturns:
    """The monthly simulation of ``county.taxpayer.TaxpayerBuilder`` (its identity and scale are drawn first)."""

    # -- the plan -------------------------------------------------------------------------------------

    def plan(self, start: int, end: int) -> _Plan:
        """Shapes the credit as the archetype says."""
        plan = _Plan(start, end)
        payer_mean = self.rng.uniform(0.74, 0.94)
        for i in range(start, end + 1):
            plan.cover[i] = payer_mean
        shape = _SHAPES.get(self.archetype)
        if shape is not None:
            shape(self, plan)
        return plan

    def _episode(self, plan: _Plan, first: int, length: int, per_month: float) -> None:
        for i in range(first, min(first + length, plan.end + 1)):
            if i >= plan.start:
                plan.boost[i] = max(1, int(per_month * self.rng.uniform(0.7, 1.3)))

    def _payer(self, plan: _Plan) -> None:
        rng = self.rng
        for i in range(plan.start, plan.end + 1):
            if rng.random() < 0.03:
                plan.boost[i] = int(self.base_month_fen * self.rate_bp / 10_000 * rng.uniform(0.05, 0.3)) + 1

    def _seasonal(self, plan: _Plan) -> None:
        rng = self.rng
        mean, amplitude, peak = rng.uniform(0.86, 0.98), rng.uniform(0.15, 0.35), rng.randint(1, 12)
        for i in range(plan.start, plan.end + 1):
            plan.cover[i] = mean + amplitude * math.cos(2 * math.pi * ((i % 12 + 1) - peak) / 12)

    def _stock(self, plan: _Plan) -> None:
        rng = self.rng
        plan.opening = int(lognormal(rng, 35_000_000, 0.9))  # about 350,000 yuan at 2019-03
        drift = rng.uniform(0.97, 1.04)
        later = rng.uniform(0.85, 1.02)
        for i in range(plan.start, plan.end + 1):
            plan.cover[i] = drift if i < month_index(2022, 7) else later

    def _grower(self, plan: _Plan) -> None:
        rng = self.rng
        if rng.random() < 0.55:  # an early run under 2019 No.39
            self._episode(
                plan,
                rng.randint(month_index(2019, 4), month_index(2021, 6)),
                rng.randint(6, 9),
                lognormal(rng, 12_000_000, 0.5),
            )
        if rng.random() < 0.4:  # a run in 2022-2024
            self._episode(
                plan,
                rng.randint(month_index(2022, 8), month_index(2024, 6)),
                rng.randint(6, 10),
                lognormal(rng, 12_000_000, 0.5),
            )
        length = rng.randint(6, 16)
        ended_ago = 0 if rng.random() < 0.75 else rng.randint(1, 3)  # some runs broke recently
        self._episode(plan, plan.end - ended_ago - length + 1, length, lognormal(rng, 11_000_000, 0.6))

    def _investor(self, plan: _Plan) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            self._episode(plan, rng.randint(plan.start, plan.end), rng.randint(3, 8), lognormal(rng, 30_000_000, 0.8))
        if rng.random() < 0.6:
            self._episode(plan, plan.end - rng.randint(2, 8), rng.randint(3, 8), lognormal(rng, 25_000_000, 0.8))
        slow = rng.uniform(0.9, 0.99)
        for i in range(plan.start, plan.end + 1):
            plan.cover[i] = slow

    def _developer(self, plan: _Plan) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            plan.opening = int(lognormal(rng, 150_000_000, 0.8))
        i = plan.start - rng.randint(0, 30)
        building = rng.random() < 0.6
        while i <= plan.end:
            length = rng.randint(12, 30) if building else rng.randint(6, 18)
            per_month = lognormal(rng, 25_000_000, 0.6)
            for j in range(i, min(i + length, plan.end + 1)):
                if j < plan.start:
                    continue
                if building:
                    plan.boost[j] = max(1, int(per_month * rng.uniform(0.6, 1.4)))
                else:
                    plan.cover[j] = rng.uniform(0.3, 0.6)
            i += length
            building = not building

    def _exporter(self, plan: _Plan) -> None:
        for i in range(plan.start, plan.end + 1):
            plan.cover[i] = self.rng.uniform(0.75, 0.9)  # of the VAT on all sales, exports included

    # -- the months -----------------------------------------------------------------------------------

    def simulate(self) -> tuple[list[ReturnRow], int | None, int]:
        """(returns, last year's VAT sales or None when it did not operate then, months it operated)."""
        start = max(self.cal.first, self.registered_index)
        run = self._start(start, self.cal.last)
        rows = [row for i in range(start, self.cal.last + 1) if (row := self._month(i, run)) is not None]
        if run.months_operated == 0:
            return rows, None, 0
        return rows, run.prev_year_sales, run.months_operated

    def _start(self, start: int, end: int) -> _Run:
        rng = self.rng
        run = _Run(self.plan(start, end))
        run.credit = run.plan.opening
        run.base_credit = run.credit if self.gt_index <= self.cal.first else 0
        run.growth = 1 + min(max(rng.gauss(0.04, 0.07), -0.1), 0.25)
        run.season_amp, run.season_peak = rng.uniform(0.0, 0.25), rng.randint(1, 12)
        run.export_share = rng.uniform(0.3, 0.9) if self.exporter else 0.0
        run.ratio = 1 - self.agri - 0.02
        run.shares = self._voucher_shares()
        run.refund_taker = rng.random() < 0.55
        run.section_2022 = self.section in SECTIONS_2022 or self.division in DIVISIONS_2022
        run.class1 = self.section in SECTIONS_2025_CLASS1 or self.division in DIVISIONS_2025_CLASS1
        run.arrears_from = end - rng.randint(0, 3) if rng.random() < 0.01 else None
        run.stock_refund_month = self._stock_refund_month(run.section_2022) if run.base_credit else None
        return run

    def _month(self, i: int, run: _Run) -> ReturnRow | None:
        """Month ``i``'s return, or None: a small-scale taxpayer's month, or a quarter not yet ended."""
        sales = self._sales(i, run)
        if i < self.gt_index:
            return None  # a small-scale taxpayer then: sales count for size, no general return
        flows = self._inputs(i, run, sales)
        if self.quarterly:  # one return a quarter: the quarter's flows settle together
            run.quarter.append(flows)
            if (i % 12 + 1) % 3:
                return None
            flows = tuple(sum(column) for column in zip(*run.quarter, strict=True))
            run.quarter = []
        return self._settle(i, run, flows)

    def _sales(self, i: int, run: _Run) -> int:
        year, month = divmod(i, 12)
        month += 1
        level = self.base_month_fen * run.growth ** ((i - self.cal.first) / 12)
        level *= 1 + run.season_amp * math.cos(2 * math.pi * (month - run.season_peak) / 12)
        if self.archetype == DEVELOPER:
            level *= 0.25 if i in run.plan.boost else 2.2
        sales = int(level * self.cal.shock[i] * math.exp(self.rng.gauss(0.0, 0.12)))
        if year == self.cal.prev_year:
            run.prev_year_sales += sales
            run.months_operated += 1
        return sales

    def _inputs(self, i: int, run: _Run, sales: int) -> tuple[int, int, int, int]:
        """(sales, output tax, net input tax, input tax transferred out) of the month."""
        rng = self.rng
        vat_on_sales = sales * self.rate_bp // 10_000
        output = vat_on_sales - int(vat_on_sales * run.export_share)
        if i in run.plan.boost:
            input_net = output + run.plan.boost[i]
            run.last_boost_month = i
        elif self.exporter:
            input_net = int(vat_on_sales * run.plan.cover[i])
        else:
            input_net = int(output * max(0.0, run.plan.cover[i] + rng.gauss(0.0, 0.05)))
        transferred = int(input_net * rng.uniform(0.005, 0.05)) if rng.random() < 0.06 else 0
        return sales, output, input_net, transferred

    def _settle(self, i: int, run: _Run, flows: tuple[int, int, int, int]) -> ReturnRow:
        rng = self.rng
        sales, output, input_net, transferred = flows
        credit = run.credit
        refund = self._refund_taken(i, credit, run) if credit > 0 else 0
        available = credit - refund + input_net
        if available >= output:
            credit, payable = available - output, 0
        else:
            credit, payable = 0, output - available
        exports = sales * run.export_share * self.rate_bp / 10_000  # the VAT on exported sales
        if self.exporter and credit:
            credit -= min(credit, int(exports * rng.uniform(0.5, 0.9)))
        run.credit = credit
        arrears = 0
        if run.arrears_from and i >= run.arrears_from:
            arrears = int(max(payable, 100_000) * rng.uniform(0.3, 1.0))
        unbooked = 0
        if self.exporter and i == run.plan.end and rng.random() < 0.3:
            unbooked = int(exports * rng.uniform(0.2, 0.6))
        flows = (sales, output, input_net + transferred, transferred, payable, refund, arrears, unbooked)
        return self._row(i, flows, credit, run.shares)

    # -- refunds taken ------------------------------------------------------------------------------

    def _stock_refund_month(self, section_2022: bool) -> int | None:
        """The 2022 one-off stock refund (2022 No.14 art. 1-2, No.17, No.19, No.21), if taken."""
        rng = self.rng
        if rng.random() > 0.7:
            return None
        annual = self.base_month_fen * 12
        size = enterprise_size(self.profile.size_row, annual, int(annual * self.asset_ratio))
        if size == "micro":
            return month_index(2022, 4)
        if size == "small":
            return month_index(2022, 5)
        if self.section in "CMDG" or self.division in DIVISIONS_2022:  # 2022 No.14 art. 2, No.17, No.19
            return month_index(2022, 5 if size == "medium" else 6)
        if section_2022:  # 2022 No.21
            return month_index(2022, 7)
        return None

    def _refund_taken(self, i: int, credit: int, run: _Run) -> int:
        """A plausible refund history (credit_refunded): not the rules, only their typical outcome."""
        increment = credit - run.base_credit
        if i == run.stock_refund_month:
            return int(credit * run.ratio)  # stock and any increment, both × ratio
        grew = self.archetype == GROWER and run.last_boost_month == i - 1
        if grew and i <= month_index(2025, 8) and increment > 50_000_000:
            return int(increment * run.ratio * 0.6) if self.rng.random() < 0.6 else 0  # 2019 No.39: 60%
        if not run.refund_taker:
            return 0
        return self._refund_by_policy(i, credit, increment, run)

    def _refund_by_policy(self, i: int, credit: int, increment: int, run: _Run) -> int:
        rng = self.rng
        if self.archetype == INVESTOR and run.section_2022 and month_index(2022, 4) <= i <= month_index(2025, 8):
            return int(increment * run.ratio) if increment > 10_000_000 and rng.random() < 0.12 else 0
        if run.class1 and i >= month_index(2025, 9) and credit > 10_000_000 and rng.random() < 0.15:
            return int(credit * run.ratio)  # 2025 No.7 class 1: the whole credit
        if self.archetype == DEVELOPER and i >= month_index(2025, 9) and increment > 50_000_000:
            return int(increment * run.ratio * 0.6) if rng.random() < 0.05 else 0
        return 0

    # -- the return row -------------------------------------------------------------------------------

    def _voucher_shares(self) -> tuple[float, ...]:
        """Shares of input tax by voucher kind other than the special invoice (which takes the rest)."""
        rng = self.rng
        customs = rng.uniform(0.02, 0.2) if self.exporter or rng.random() < 0.05 else 0.0
        return (
            rng.uniform(0.0, 0.03) if rng.random() < 0.3 else 0.0,  # motor vehicle invoice
            customs,
            rng.uniform(0.0, 0.02) if rng.random() < 0.05 else 0.0,  # tax payment certificate
            rng.uniform(0.001, 0.01),  # toll road e-invoice
            rng.uniform(0.0, 0.003),  # air e-ticket
            rng.uniform(0.0, 0.003),  # railway e-ticket
            self.agri,
            rng.uniform(0.0, 0.02),  # other (e.g. 国内旅客运输 paper tickets)
        )

    def _row(self, i: int, flows: tuple, credit: int, shares: tuple[float, ...]) -> ReturnRow:
        sales, output, input_total, transferred, payable, refund, arrears, unbooked = flows
        parts = [int(input_total * share) for share in shares]
        special = input_total - sum(parts)
        by_industry = {}
        if self.multi:
            code, share = self.multi
            first = int(sales * min(max(share + self.rng.gauss(0, 0.05), 0.05), 0.95))
            by_industry = {self.code: first, code: sales - first}
        return ReturnRow(
            self.cal.periods[i], self.cal.filed_on(i, self.rng), sales, by_industry, output, special, *parts,
            transferred, payable, credit, refund, arrears, unbooked,
        )  # fmt: skip


_SHAPES = {
    PAYER: MonthlyReturns._payer,
    SEASONAL: MonthlyReturns._seasonal,
    STOCK: MonthlyReturns._stock,
    GROWER: MonthlyReturns._grower,
    INVESTOR: MonthlyReturns._investor,
    DEVELOPER: MonthlyReturns._developer,
    EXPORTER: MonthlyReturns._exporter,
}
