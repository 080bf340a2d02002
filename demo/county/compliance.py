"""One taxpayer's compliance records: 偷税 penalties, fraud findings, 即征即退 enjoyed and repaid, 非正常户.

They decide the refund conditions on penalties and fraud (2022 No.14 art. 3) and the 即征即退 exclusion, and
feed the taxpayer's credit rating. Every draw comes from the taxpayer's own generator, in a fixed order.
"""

from __future__ import annotations

import datetime as dt

from .months import lognormal


class ComplianceRecords:
    """The compliance records of ``county.taxpayer.TaxpayerBuilder`` (drawn after its returns)."""

    def compliance(self) -> tuple[list[dict], dict]:
        rng, cal = self.rng, self.cal
        today = cal.today
        since = dt.date(self.gt_index // 12, self.gt_index % 12 + 1, 1)
        records: list[dict] = []
        flags = {"penalties": 0, "fraud": False, "abnormal": 0}

        def day_between(first: dt.date, last: dt.date) -> dt.date:
            first = max(first, since)
            if last <= first:
                return last
            return first + dt.timedelta(days=rng.randrange((last - first).days + 1))

        def add(kind: str, prefix: str, occurred: dt.date, amount: int | None, note: str = "") -> None:
            key = (prefix, occurred.year)
            self.serials[key] += 1
            records.append(
                {
                    "kind": kind,
                    "occurred_on": occurred,
                    "document_number": f"{prefix}〔{occurred.year}〕{self.serials[key]}号",
                    "amount": amount,
                    "note": note,
                }
            )

        draw = rng.random()
        recent = today - dt.timedelta(days=30 * 30)
        if draw < 0.008:  # two 偷税 penalties within 36 months: not eligible anywhere
            for _ in range(2):
                add(
                    "evasion_penalty",
                    "示税稽罚",
                    day_between(recent, today),
                    int(lognormal(rng, 6_000_000, 0.8)),
                    "偷税，处少缴税款百分之五十罚款",
                )
            flags["penalties"] = 2
        elif draw < 0.045:  # one penalty: still eligible
            add(
                "evasion_penalty",
                "示税稽罚",
                day_between(dt.date(2019, 6, 1), today),
                int(lognormal(rng, 4_000_000, 0.8)),
                "偷税，处少缴税款百分之五十罚款",
            )
            flags["penalties"] = 1
        if rng.random() < 0.004:
            kind = rng.choices(
                ("false_special_invoice", "refund_fraud", "export_refund_fraud"),
                weights=(6, 3, 2 if self.exporter else 0),
            )[0]
            add(
                kind,
                "示税稽罚",
                day_between(today - dt.timedelta(days=33 * 30), today),
                int(lognormal(rng, 20_000_000, 0.8)),
                "稽查处理决定",
            )
            flags["fraud"] = True
        if rng.random() < self.profile.immediate_refund_share:
            enjoyed = day_between(dt.date(2019, 4, 1), today)
            add(
                "immediate_refund",
                "示税通",
                enjoyed,
                int(lognormal(rng, 8_000_000, 0.9)),
                "软件产品增值税即征即退" if self.division == "65" else "资源综合利用增值税即征即退",
            )
            if rng.random() < 0.2:
                add("immediate_refund_repaid", "示税缴", day_between(enjoyed, today), None, "一次性缴回已退税款")
        if rng.random() < 0.004:
            flags["abnormal"] = rng.randint(3, 10)  # stopped filing some months ago: 非正常户
        return records, flags
