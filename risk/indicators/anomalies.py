"""异常情况: links to taxpayers in trouble and records of wrongdoing — a mobile shared with a 非正常户 or a D-rated
taxpayer, a mobile shared by many taxpayers, penalties for evasion or false invoices — and a taxpayer registered
lately that already carries a large credit.

The contacts are compared set-based: every mobile of the registry (法定代表人、财务负责人、办税人) as one list of
(taxpayer, mobile) rows joined to itself — one statement, not one lookup per taxpayer.
"""

from __future__ import annotations

from django.db.models import Count, F, Max, Q, QuerySet

from credit.selectors import rating_in_force_sql
from taxpayers.models import ComplianceRecord, Taxpayer

from ..models import Severity
from .base import Family, Indicator, Parameter, Scope, Statement, Values, credit_at, months_back

MOBILE_COLUMNS = ("legal_rep_mobile", "finance_contact_mobile", "tax_handler_mobile")


def _mobiles_sql() -> str:
    table = Taxpayer._meta.db_table
    return " UNION ".join(
        f"SELECT id AS taxpayer_id, {column} AS mobile FROM {table} WHERE {column} <> ''"  # noqa: S608 - _meta
        for column in MOBILE_COLUMNS
    )


def shared_with_risky(scope: Scope, p: Values) -> Statement:
    """A mobile of the taxpayer is a mobile of another taxpayer that is 非正常户 or rated D on the day."""
    narrow, params = scope.sql("a.taxpayer_id")
    table = Taxpayer._meta.db_table
    sql = (
        f"WITH m AS ({_mobiles_sql()}) "  # noqa: S608 - table names from _meta, values bound
        "SELECT a.taxpayer_id, COUNT(DISTINCT o.id) AS risky_count, MIN(a.mobile) AS mobile, "
        "MIN(o.identifier) AS other_identifier "
        "FROM m a JOIN m b ON b.mobile = a.mobile AND b.taxpayer_id <> a.taxpayer_id "
        f"JOIN {table} o ON o.id = b.taxpayer_id "
        f"LEFT JOIN ({rating_in_force_sql(scope.as_of)}) AS cr ON cr.taxpayer_id = o.id "
        f"WHERE (o.status = %s OR cr.level = %s){narrow} "
        "GROUP BY a.taxpayer_id ORDER BY a.taxpayer_id"
    )
    return Statement(sql, [Taxpayer.Status.ABNORMAL, "D", *params], ("risky_count", "mobile", "other_identifier"))


def shared_by_many(scope: Scope, p: Values) -> Statement:
    """A mobile of the taxpayer is also a mobile of at least ``min_others`` other taxpayers."""
    narrow, params = scope.sql("a.taxpayer_id")
    sql = (
        f"WITH m AS ({_mobiles_sql()}) "  # noqa: S608 - table names from _meta, values bound
        "SELECT a.taxpayer_id, COUNT(DISTINCT b.taxpayer_id) AS others_count, MIN(a.mobile) AS mobile "
        "FROM m a JOIN m b ON b.mobile = a.mobile AND b.taxpayer_id <> a.taxpayer_id "
        f"WHERE 1 = 1{narrow} GROUP BY a.taxpayer_id HAVING COUNT(DISTINCT b.taxpayer_id) >= %s "
        "ORDER BY a.taxpayer_id"
    )
    return Statement(sql, [*params, int(p["min_others"])], ("others_count", "mobile"))


WRONGDOING = (
    ComplianceRecord.Kind.EVASION_PENALTY,
    ComplianceRecord.Kind.REFUND_FRAUD,
    ComplianceRecord.Kind.EXPORT_REFUND_FRAUD,
    ComplianceRecord.Kind.FALSE_SPECIAL_INVOICE,
)


def wrongdoing_records(scope: Scope, p: Values) -> QuerySet:
    since = scope.since(int(p["months"]))
    found = Q(
        compliance_records__kind__in=WRONGDOING,
        compliance_records__occurred_on__gte=since,
        compliance_records__occurred_on__lte=scope.as_of,
    )
    return (
        scope.narrow(Taxpayer.objects.all())
        .annotate(
            record_count=Count("compliance_records", filter=found),
            latest_on=Max("compliance_records__occurred_on", filter=found),
        )
        .filter(record_count__gte=1)
        .values("record_count", "latest_on", taxpayer_id=F("pk"))
    )


def new_taxpayer_large_credit(scope: Scope, p: Values) -> QuerySet:
    since = scope.since(int(p["months"]))
    return (
        scope.narrow(Taxpayer.objects.filter(registered_on__gte=since, registered_on__lte=scope.as_of))
        .annotate(end_credit=credit_at(str(scope.last_period)))
        .filter(end_credit__gte=p["min_credit"])
        .values("registered_on", "end_credit", taxpayer_id=F("pk"))
    )


INDICATORS = (
    Indicator(
        code="ABN_SHARED_WITH_RISKY",
        family=Family.ANOMALY,
        title="与非正常户或D级纳税人共用联系电话",
        description="法定代表人、财务负责人或办税人的手机号码，同时登记为非正常户或现行信用级别为D级的其他纳税人"
        "的联系电话：关联企业可能虚开或转移经营。",
        severity=Severity.HIGH,
        parameters=(),
        evidence=(
            ("risky_count", "关联风险纳税人户数"),
            ("mobile", "共用号码"),
            ("other_identifier", "关联纳税人识别号"),
        ),
        query=shared_with_risky,
    ),
    Indicator(
        code="ABN_SHARED_MOBILE",
        family=Family.ANOMALY,
        title="联系电话多户共用",
        description="法定代表人、财务负责人或办税人的手机号码，同时是规定户数以上其他纳税人的联系电话。",
        severity=Severity.LOW,
        parameters=(Parameter("min_others", "共用的其他纳税人不少于", "户", "3"),),
        evidence=(("others_count", "共用的其他纳税人户数"), ("mobile", "共用号码")),
        query=shared_by_many,
    ),
    Indicator(
        code="ABN_WRONGDOING",
        family=Family.ANOMALY,
        title="近年有偷税、骗税或虚开记录",
        description="规定月数内有偷税处罚、骗取留抵退税或出口退税、虚开增值税专用发票的处理记录。",
        severity=Severity.HIGH,
        parameters=(months_back("36"),),
        evidence=(("record_count", "记录条数"), ("latest_on", "最近发生日期")),
        query=wrongdoing_records,
    ),
    Indicator(
        code="ABN_NEW_TAXPAYER_CREDIT",
        family=Family.ANOMALY,
        title="新办企业短期形成大额留抵",
        description="登记不满规定月数的纳税人，最近一期期末留抵税额已达到规定金额：新办企业短期内大量取得进项，"
        "需核实经营和购进的真实性。",
        severity=Severity.MEDIUM,
        parameters=(
            Parameter("months", "登记不满", "个月", "24"),
            Parameter("min_credit", "期末留抵税额不低于", "元", "1000000"),
        ),
        evidence=(("registered_on", "登记日期"), ("end_credit", "期末留抵税额（元）")),
        query=new_taxpayer_large_credit,
    ),
)
