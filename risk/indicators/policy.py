"""政策适用范围: whether the taxpayer sits close to a policy line or inside a group the policy treats apart — the
listed industries' share of sales near 50%, an industry changed lately, 即征即退 enjoyed, a focus industry."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum

from refund.models import RefundApplication
from taxpayers.models import ComplianceRecord, Taxpayer, VatReturn

from ..models import Severity
from .base import Family, Indicator, Kind, Parameter, Scope, Statement, Values, months_back


def _json_each() -> str:
    """The table function that unpacks a JSON object into (key, value) rows."""
    return "jsonb_each_text" if connection.vendor == "postgresql" else "json_each"


def industry_share_near_line(scope: Scope, p: Values) -> Statement:
    """The listed industries' share of the window's sales (分行业销售额; a return without it counts wholly in the
    registered industry, as the refund rules do) within ``band_pct`` points of 50%.

    One pass over the returns: each return joined to its industry entries, or (none) to one row of NULLs that
    stands for the registered industry — not a second pass over the returns that asks each whether it has none."""
    first, last = scope.window(int(p["months"]))
    each = _json_each()
    returns, taxpayers = VatReturn._meta.db_table, Taxpayer._meta.db_table
    narrow, narrow_params = scope.sql("r.taxpayer_id")
    sections = list(p["sections"])
    listed = f"UPPER(SUBSTR(code, 1, 1)) IN ({', '.join(['%s'] * len(sections))})"
    lateral = "LATERAL " if connection.vendor == "postgresql" else ""
    band = p["band_pct"]
    sql = (
        "WITH sales AS ("  # noqa: S608 - table names from _meta, values bound
        "SELECT r.taxpayer_id, CASE WHEN e.key IS NULL THEN t.industry_code ELSE e.key END AS code, "
        "CASE WHEN e.key IS NULL THEN r.sales_total ELSE CAST(e.value AS NUMERIC) END AS amount "
        f"FROM {returns} r JOIN {taxpayers} t ON t.id = r.taxpayer_id "
        f"LEFT JOIN {lateral}{each}(r.sales_by_industry) AS e ON 1 = 1 "
        f"WHERE r.period BETWEEN %s AND %s{narrow}), "
        f"shares AS (SELECT taxpayer_id, SUM(CASE WHEN {listed} THEN amount ELSE 0 END) AS listed_sales, "
        "SUM(amount) AS total_sales FROM sales GROUP BY taxpayer_id HAVING SUM(amount) > 0) "
        "SELECT taxpayer_id, listed_sales, total_sales, 100.0 * listed_sales / total_sales AS share_pct FROM shares "
        "WHERE 100 * listed_sales >= %s * total_sales AND 100 * listed_sales <= %s * total_sales "
        "ORDER BY taxpayer_id"
    )
    params = [first, last, *narrow_params, *sections, 50 - band, 50 + band]
    columns = ("listed_sales", "total_sales", "share_pct")
    return Statement(sql, params, columns, amounts=columns)


def industry_changed(scope: Scope, p: Values) -> QuerySet:
    since = scope.since(int(p["months"]))
    earlier = (
        RefundApplication.objects.filter(
            taxpayer_id=OuterRef("pk"), received_on__gte=since, received_on__lte=scope.as_of
        )
        .exclude(industry_code="")
        .exclude(industry_code=OuterRef("industry_code"))
        .order_by("-received_on", "-id")
    )
    return (
        scope.narrow(Taxpayer.objects.all())
        .filter(Exists(earlier))  # a semi-join first: the subqueries below run for these taxpayers alone
        .annotate(
            earlier_industry=Subquery(earlier.values("industry_code")[:1]),
            earlier_received_on=Subquery(earlier.values("received_on")[:1]),
        )
        .filter(earlier_industry__isnull=False)
        .values("earlier_industry", "earlier_received_on", "industry_code", taxpayer_id=F("pk"))
    )


def immediate_refund_history(scope: Scope, p: Values) -> QuerySet:
    since = scope.since(int(p["months"]))
    within = Q(compliance_records__occurred_on__gte=since, compliance_records__occurred_on__lte=scope.as_of)
    enjoyed = within & Q(compliance_records__kind=ComplianceRecord.Kind.IMMEDIATE_REFUND)
    repaid = within & Q(compliance_records__kind=ComplianceRecord.Kind.IMMEDIATE_REFUND_REPAID)
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(
            enjoyed_count=Count("compliance_records", filter=enjoyed),
            enjoyed_amount=Sum("compliance_records__amount", filter=enjoyed),
            latest_enjoyed_on=Max("compliance_records__occurred_on", filter=enjoyed),
            repaid_count=Count("compliance_records", filter=repaid),
        )
        .filter(enjoyed_count__gte=1)
        .values("enjoyed_count", "enjoyed_amount", "latest_enjoyed_on", "repaid_count", taxpayer_id=F("pk"))
    )


def focus_industry(scope: Scope, p: Values) -> QuerySet:
    inside = Q()
    for section in p["sections"]:
        inside |= Q(industry_code__istartswith=section)
    return scope.narrow(Taxpayer.objects.filter(inside)).values("industry_code", taxpayer_id=F("pk"))


INDICATORS = (
    Indicator(
        code="POL_INDUSTRY_SHARE",
        family=Family.POLICY,
        title="所列行业销售额占比临近50%",
        description="最近若干个月所列行业（默认制造业）销售额占全部销售额的比重与50%相差不超过规定百分点："
        "行业占比在政策界线附近，需核实分行业销售额的真实性。",
        severity=Severity.MEDIUM,
        parameters=(
            Parameter("months", "计算月数", "个月", "12"),
            Parameter("sections", "所列行业门类", "", "C", Kind.SECTIONS),
            Parameter("band_pct", "与50%相差不超过", "个百分点", "5"),
        ),
        evidence=(
            ("listed_sales", "所列行业销售额（元）"),
            ("total_sales", "全部销售额（元）"),
            ("share_pct", "所列行业占比（%）"),
        ),
        query=industry_share_near_line,
    ),
    Indicator(
        code="POL_INDUSTRY_CHANGED",
        family=Family.POLICY,
        title="近期变更行业",
        description="登记行业与规定月数内退税申请时记录的行业不同：行业变更可能改变适用政策。",
        severity=Severity.MEDIUM,
        parameters=(months_back("12"),),
        evidence=(
            ("earlier_industry", "此前申请时行业代码"),
            ("earlier_received_on", "此前申请受理日期"),
            ("industry_code", "现登记行业代码"),
        ),
        query=industry_changed,
    ),
    Indicator(
        code="POL_IMMEDIATE_REFUND",
        family=Family.POLICY,
        title="享受即征即退等政策",
        description="规定月数内享受过增值税即征即退、先征后返（退）政策：除一次性缴回外不得同时享受留抵退税。",
        severity=Severity.MEDIUM,
        parameters=(months_back("36"),),
        evidence=(
            ("enjoyed_count", "享受次数"),
            ("enjoyed_amount", "享受金额（元）"),
            ("latest_enjoyed_on", "最近享受日期"),
            ("repaid_count", "缴回次数"),
        ),
        query=immediate_refund_history,
    ),
    Indicator(
        code="POL_FOCUS_INDUSTRY",
        family=Family.POLICY,
        title="重点关注行业",
        description="登记行业属于重点关注的行业门类（默认农、林、牧、渔业和批发零售业）。",
        severity=Severity.LOW,
        parameters=(Parameter("sections", "重点行业门类", "", "A,F", Kind.SECTIONS),),
        evidence=(("industry_code", "登记行业代码"),),
        query=focus_industry,
    ),
)
