"""Reads of 银税互动, scoped to the user's branches: the promotion list, one taxpayer's outreach and loans, and the
loans list with its totals.

The promotion list holds the registered taxpayers whose rating in force today is A, B or M — those a bank may
lend to on their credit (纳税信用贷) — 专精特新 first, then innovative SMEs, then A before B before M, then the
larger enterprises; those not yet told first within each group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.shortcuts import get_object_or_404

from accounts.models import Branch
from accounts.scoping import scope_to_user, visible_branch_ids
from taxpayers.models import EnterpriseSize, Taxpayer

from ..models import BankTaxLoan, BankTaxOutreach
from ..selectors import rating_in_force, with_rating_in_force

PROMOTED_LEVELS = ("A", "B", "M")
LEVEL_RANK = {"A": 3, "B": 2, "M": 1}
SIZE_RANK = {EnterpriseSize.LARGE: 4, EnterpriseSize.MEDIUM: 3, EnterpriseSize.SMALL: 2, EnterpriseSize.MICRO: 1}
FLAGS = {"specialized": "专精特新企业", "innovative": "创新型中小企业", "either": "专精特新或创新型"}
TOLD = {"no": "尚未告知", "yes": "已告知", "interested": "有贷款意向", "loan": "已获贷款"}


def _rank(field: str, ranks: Mapping) -> Case:
    return Case(
        *(When(**{field: key}, then=Value(rank)) for key, rank in ranks.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def _latest_outreach(field: str) -> Subquery:
    return Subquery(
        BankTaxOutreach.objects.filter(taxpayer_id=OuterRef("pk")).order_by("-told_on", "-id").values(field)[:1]
    )


def promotion_list(*, user, on: dt.date, filters: Mapping | None = None) -> QuerySet[Taxpayer]:
    """The taxpayers to tell about credit loans, each annotated with ``rating_level``/``rating_score``/
    ``rating_year`` (in force on ``on``), its last outreach (``last_told_on``, ``last_outcome``) and its loans
    (``loan_count``, ``loan_total``). Filters: level, branch, flag (specialized, innovative, either), told (no,
    yes, interested, loan), name or identifier (``q``)."""
    filters = filters or {}
    taxpayers = scope_to_user(
        Taxpayer.objects.select_related("branch").filter(status=Taxpayer.Status.NORMAL), user=user
    )
    taxpayers = with_rating_in_force(taxpayers, on).filter(rating_level__in=PROMOTED_LEVELS)
    level = filters.get("level") or ""
    if level in PROMOTED_LEVELS:
        taxpayers = taxpayers.filter(rating_level=level)
    branch = str(filters.get("branch") or "")
    if branch.isdigit():
        taxpayers = taxpayers.filter(branch_id=int(branch))
    flag = filters.get("flag") or ""
    if flag == "specialized":
        taxpayers = taxpayers.filter(is_specialized_sme=True)
    elif flag == "innovative":
        taxpayers = taxpayers.filter(is_innovative_sme=True)
    elif flag == "either":
        taxpayers = taxpayers.filter(Q(is_specialized_sme=True) | Q(is_innovative_sme=True))
    text = (filters.get("q") or "").strip()
    if text:
        taxpayers = taxpayers.filter(Q(name__icontains=text) | Q(identifier__icontains=text))
    taxpayers = taxpayers.annotate(
        last_told_on=_latest_outreach("told_on"),
        last_outcome=_latest_outreach("outcome"),
        loan_count=Subquery(
            BankTaxLoan.objects.filter(taxpayer_id=OuterRef("pk"))
            .order_by()
            .values("taxpayer_id")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        loan_total=Subquery(
            BankTaxLoan.objects.filter(taxpayer_id=OuterRef("pk"))
            .order_by()
            .values("taxpayer_id")
            .annotate(total=Sum("amount"))
            .values("total")[:1]
        ),
        flag_rank=Case(
            When(is_specialized_sme=True, then=Value(2)),
            When(is_innovative_sme=True, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        level_rank=_rank("rating_level", LEVEL_RANK),
        size_rank=_rank("size", SIZE_RANK),
    )
    told = filters.get("told") or ""
    if told == "no":
        taxpayers = taxpayers.filter(last_told_on__isnull=True)
    elif told == "yes":
        taxpayers = taxpayers.filter(last_told_on__isnull=False)
    elif told == "interested":
        taxpayers = taxpayers.filter(
            last_outcome__in=(BankTaxOutreach.Outcome.INTERESTED, BankTaxOutreach.Outcome.APPLIED)
        )
    elif told == "loan":
        taxpayers = taxpayers.filter(loan_count__gt=0)
    return taxpayers.order_by("-flag_rank", "-level_rank", "-size_rank", "identifier")


@dataclass(frozen=True)
class TaxpayerBankTax:
    taxpayer: Taxpayer
    level: str  # the rating in force today ("" for none)
    eligible: bool  # A, B or M: may be told about credit loans
    outreach: list[BankTaxOutreach]
    loans: list[BankTaxLoan]


def taxpayer_banktax_for_user(*, user, pk: int, on: dt.date) -> TaxpayerBankTax:
    """One taxpayer's outreach and loans; ``Http404`` outside the user's branches."""
    taxpayer = get_object_or_404(scope_to_user(Taxpayer.objects.select_related("branch"), user=user), pk=pk)
    rating = rating_in_force(taxpayer, on)
    level = rating.level if rating else ""
    return TaxpayerBankTax(
        taxpayer=taxpayer,
        level=level,
        eligible=level in PROMOTED_LEVELS,
        outreach=list(taxpayer.banktax_outreach.select_related("officer").order_by("-told_on", "-id")),
        loans=list(taxpayer.banktax_loans.select_related("entered_by").order_by("-granted_on", "-id")),
    )


def loans_for_user(*, user, filters: Mapping | None = None) -> QuerySet[BankTaxLoan]:
    """The loans recorded for the taxpayers ``user`` may see, latest first; filters: year, branch, bank, q."""
    filters = filters or {}
    loans = scope_to_user(
        BankTaxLoan.objects.select_related("taxpayer", "taxpayer__branch", "entered_by"),
        user=user,
        branch_field="taxpayer__branch",
    )
    year = str(filters.get("year") or "")
    if year.isdigit():
        loans = loans.filter(granted_on__year=int(year))
    branch = str(filters.get("branch") or "")
    if branch.isdigit():
        loans = loans.filter(taxpayer__branch_id=int(branch))
    bank = (filters.get("bank") or "").strip()
    if bank:
        loans = loans.filter(bank__icontains=bank)
    text = (filters.get("q") or "").strip()
    if text:
        loans = loans.filter(Q(taxpayer__name__icontains=text) | Q(taxpayer__identifier__icontains=text))
    return loans.order_by("-granted_on", "-id")


@dataclass(frozen=True)
class LoanTotals:
    count: int
    taxpayers: int
    amount: Decimal


def loan_totals(loans: QuerySet[BankTaxLoan]) -> LoanTotals:
    totals = loans.order_by().aggregate(n=Count("pk"), taxpayers=Count("taxpayer", distinct=True), amount=Sum("amount"))
    return LoanTotals(totals["n"], totals["taxpayers"], totals["amount"] or Decimal("0.00"))


def branches_for_user(*, user) -> list[Branch]:
    """The 分局 the user may filter by (its own only, for a branch officer)."""
    branches = Branch.objects.filter(kind=Branch.Kind.BRANCH).order_by("sort_order", "code")
    ids = visible_branch_ids(user)
    return list(branches if ids is None else branches.filter(pk__in=ids))
