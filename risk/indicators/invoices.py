"""发票链条: what the input invoices say — input on 异常凭证 or 失控发票, input from suppliers that became 非正常户
or 走逃（失联） within months of invoicing, one supplier taking most of the input, input from suppliers registered
shortly before they invoiced.

Read from the monthly invoice summary (发票汇总) and the supplier rows (供应商进项明细) of the months before the
scan's day, through the set-based reads of ``taxpayers.invoice_selectors``: one statement each, over every
taxpayer or narrowed to a few. A share is of the input tax of the same rows (the summary's, or the supplier rows'
own total); it is compared by multiplying, never dividing, so a total of 0 never fires.
"""

from __future__ import annotations

from django.db.models import F, Min, QuerySet

from core.periods import Period
from taxpayers.invoice_selectors import (
    fled_supplier_input_by_taxpayer,
    invoice_input_by_taxpayer,
    new_supplier_input_by_taxpayer,
    top_supplier_sql,
)

from ..models import Severity
from .base import Family, Indicator, Parameter, Scope, Statement, Values, percent, times


def _periods(scope: Scope, months: int) -> dict:
    first, last = scope.window(months)
    return {"first": Period.parse(first), "last": Period.parse(last), "taxpayer_ids": scope.taxpayer_ids}


def _share_at_least(rows: QuerySet, part: str, total: str, p: Values) -> QuerySet:
    """The rows whose ``part`` reaches ``p["min_tax"]`` and ``p["share_pct"]`` % of ``total``, with ``share_pct``."""
    return (
        rows.filter(**{f"{total}__gt": 0, f"{part}__gt": 0, f"{part}__gte": p["min_tax"]})
        .alias(limit=times(total, p["share_pct"] / 100))
        .filter(**{f"{part}__gte": F("limit")})
        .annotate(share_pct=percent(part, total))
    )


def _flagged_input(column: str):
    """The query of input on one kind of flagged invoice (``abnormal_tax`` 异常凭证, ``lost_control_tax`` 失控发票)."""

    def query(scope: Scope, p: Values) -> QuerySet:
        rows = invoice_input_by_taxpayer(**_periods(scope, int(p["months"])))
        return _share_at_least(rows, column, "input_tax_total", p)

    return query


def fled_suppliers(scope: Scope, p: Values) -> QuerySet:
    rows = fled_supplier_input_by_taxpayer(
        **_periods(scope, int(p["months"])), months=int(p["status_within_months"]), known_on=scope.as_of
    )
    return rows.filter(fled_tax__gte=p["min_tax"], fled_tax__gt=0).annotate(first_supplier=Min("supplier_identifier"))


def top_supplier_share(scope: Scope, p: Values) -> Statement:
    window = _periods(scope, int(p["months"]))
    where, params = scope.condition("taxpayer_id")
    top = top_supplier_sql(window["first"], window["last"], where=where)
    sql = (
        "SELECT taxpayer_id, supplier_identifier, supplier_name, supplier_tax, total_tax, "  # noqa: S608 - bound
        f"100.0 * supplier_tax / total_tax AS share_pct FROM ({top}) AS top_supplier "
        "WHERE total_tax > 0 AND total_tax >= CAST(%s AS NUMERIC) AND 100 * supplier_tax >= %s * total_tax "
        "ORDER BY taxpayer_id"
    )
    columns = ("supplier_identifier", "supplier_name", "supplier_tax", "total_tax", "share_pct")
    return Statement(
        sql, [*params, p["min_input_tax"], p["share_pct"]], columns, amounts=("supplier_tax", "total_tax", "share_pct")
    )


def new_suppliers(scope: Scope, p: Values) -> QuerySet:
    rows = new_supplier_input_by_taxpayer(**_periods(scope, int(p["months"])), months=int(p["registered_months"]))
    return _share_at_least(rows, "new_tax", "total_tax", p)


def _months(default: str) -> Parameter:
    return Parameter("months", "发票月数", "个月", default)


def _min_tax(default: str) -> Parameter:
    return Parameter("min_tax", "税额不低于", "元", default)


INDICATORS = (
    Indicator(
        code="INV_ABNORMAL_VOUCHER",
        family=Family.INVOICE,
        title="取得异常凭证",
        description="最近若干个月取得的进项中，异常增值税扣税凭证的税额及其占进项税额的比例均达到规定值："
        "异常凭证进项应转出，未处理前不得据以申请留抵退税。",
        severity=Severity.HIGH,
        parameters=(_months("12"), _min_tax("10000"), Parameter("share_pct", "占进项税额不低于", "%", "1")),
        evidence=(
            ("abnormal_tax", "异常凭证进项税额（元）"),
            ("input_tax_total", "进项税额（元）"),
            ("share_pct", "占比（%）"),
            ("months", "有发票的月数"),
        ),
        query=_flagged_input("abnormal_tax"),
    ),
    Indicator(
        code="INV_LOST_CONTROL",
        family=Family.INVOICE,
        title="取得失控发票",
        description="最近若干个月取得的进项中，失控增值税专用发票的税额及其占进项税额的比例均达到规定值："
        "开票方已走逃（失联），进项真实性存疑。",
        severity=Severity.HIGH,
        parameters=(_months("12"), _min_tax("1000"), Parameter("share_pct", "占进项税额不低于", "%", "0")),
        evidence=(
            ("lost_control_tax", "失控发票进项税额（元）"),
            ("input_tax_total", "进项税额（元）"),
            ("share_pct", "占比（%）"),
            ("months", "有发票的月数"),
        ),
        query=_flagged_input("lost_control_tax"),
    ),
    Indicator(
        code="INV_FLED_SUPPLIER",
        family=Family.INVOICE,
        title="上游供应商短期内成为非正常户或走逃",
        description="最近若干个月取得进项发票的供应商，在开票月份后规定月数内（或开票前已）被认定为非正常户或"
        "走逃（失联），且自其取得的税额达到规定值：疑似虚开发票链条。",
        severity=Severity.HIGH,
        parameters=(
            _months("12"),
            Parameter("status_within_months", "开票后不超过", "个月", "6"),
            _min_tax("10000"),
        ),
        evidence=(
            ("suppliers", "涉及供应商户数"),
            ("fled_tax", "自其取得的税额（元）"),
            ("fled_amount", "自其取得的金额（元）"),
            ("nearest_months", "开票至认定最短月数"),
            ("first_supplier", "供应商识别号（之一）"),
        ),
        query=fled_suppliers,
    ),
    Indicator(
        code="INV_TOP_SUPPLIER",
        family=Family.INVOICE,
        title="进项高度集中于单一供应商",
        description="最近若干个月自最大一户供应商取得的税额占全部供应商进项税额的比例达到规定值（默认80%），"
        "且进项税额达到下限：购进渠道单一，需核实交易真实性及关联关系。",
        severity=Severity.MEDIUM,
        parameters=(
            _months("12"),
            Parameter("share_pct", "最大供应商占比不低于", "%", "80"),
            Parameter("min_input_tax", "进项税额不低于", "元", "100000"),
        ),
        evidence=(
            ("supplier_identifier", "供应商识别号"),
            ("supplier_name", "供应商名称"),
            ("supplier_tax", "自其取得的税额（元）"),
            ("total_tax", "全部供应商税额（元）"),
            ("share_pct", "占比（%）"),
        ),
        query=top_supplier_share,
    ),
    Indicator(
        code="INV_NEW_SUPPLIER",
        family=Family.INVOICE,
        title="进项集中来自新办供应商",
        description="最近若干个月取得的进项中，来自开票时登记不满规定月数的供应商的税额及其占比均达到规定值："
        "新办企业短期内大量开票，需防范虚开。",
        severity=Severity.MEDIUM,
        parameters=(
            _months("6"),
            Parameter("registered_months", "供应商登记不超过", "个月", "6"),
            _min_tax("50000"),
            Parameter("share_pct", "占进项税额不低于", "%", "20"),
        ),
        evidence=(
            ("new_suppliers", "新办供应商户数"),
            ("new_tax", "自其取得的税额（元）"),
            ("total_tax", "全部供应商税额（元）"),
            ("share_pct", "占比（%）"),
        ),
        query=new_suppliers,
    ),
)
