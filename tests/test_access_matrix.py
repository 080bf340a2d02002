"""Who may open what: every page and API endpoint against every persona, plus anonymous.

The table is the specification. When an issue adds a page or an endpoint, add a row to
``ENDPOINTS`` with the status each persona must get; a persona left out of a row gets the
row's ``default``. Statuses: an HTTP code, or ``LOGIN`` for "redirected to the login page".
"""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import URLResolver, get_resolver, resolve, reverse
from openpyxl import load_workbook

from conftest import PERSONAS

LOGIN = "login"
ANONYMOUS = "anonymous"
ALL_USERS = (ANONYMOUS, *PERSONAS)

# Roles holding taxpayers.view_taxpayer_contacts (accounts/roles.py).
CONTACT_READERS = {"officer_a", "officer_b", "refund_officer", "service_officer", "admin"}
AUDIT_READERS = {"supervisor", "admin"}
IMPORT_READERS = {"refund_officer", "risk_officer", "supervisor", "admin"}  # taxpayers.view_importjob
IMPORTERS = {"refund_officer", "admin"}  # taxpayers.add_importjob
# 留抵退税 screening (accounts/roles.py): view_screeningrun/result, run_screening, export_screening.
SCREENING_VIEWERS = {"officer_a", "officer_b", "refund_officer", "risk_officer", "supervisor", "admin"}
SCREENING_RUNNERS = {"refund_officer", "admin"}
SCREENING_EXPORTERS = {"refund_officer", "supervisor", "admin"}
SMS_VIEWERS = {"refund_officer", "service_officer", "supervisor", "admin"}  # notify.view_smsmessage/_smsbatch
SMS_SENDERS = {"refund_officer", "service_officer", "admin"}  # send, export, add_smsbatch
# 用户与岗位 (accounts.manage_roles) and 岗位授权确认 (accounts.view_/decide_rolegrantrequest).
ROLE_MANAGERS = {"admin"}
ROLE_CONFIRMERS = {"supervisor", "admin"}


@dataclass(frozen=True)
class Endpoint:
    url: Callable[[dict], str]  # built from the fixtures (taxpayer_a, taxpayer_b)
    default: int | str
    expected: dict[str, int | str] = field(default_factory=dict)
    method: str = "get"
    api: bool = False  # anonymous gets 401/403 instead of a redirect to the login page
    data: dict | None = None  # the form posted (or the query of a GET)

    def status_for(self, username: str) -> int | str:
        if username == ANONYMOUS and username not in self.expected:
            return 403 if self.api else LOGIN
        return self.expected.get(username, self.default)


def only(usernames, *, then: int, otherwise: int) -> dict[str, int]:
    return {u: then if u in usernames else otherwise for u in PERSONAS}


# Branch scoping: officer_a manages taxpayer_a (branch A), officer_b manages taxpayer_b (branch B).
SCOPED_TO_A = {"officer_b": 404}
SCOPED_TO_B = {"officer_a": 404}
IMPORT_READ = only(IMPORT_READERS, then=200, otherwise=403)
IMPORT_WRITE = only(IMPORTERS, then=200, otherwise=403)
SCREENING_READ = only(SCREENING_VIEWERS, then=200, otherwise=403)

# 候选名单 (refund): who holds which permission (accounts/roles.py).
CANDIDATE_VIEWERS = {
    "officer_a", "officer_b", "refund_officer", "service_officer", "risk_officer", "supervisor", "admin",
}
CANDIDATE_EXPORTERS = CANDIDATE_VIEWERS - {"risk_officer"}
CANDIDATE_WORKERS = {"officer_a", "officer_b", "refund_officer"}
CANDIDATE_VIEW = only(CANDIDATE_VIEWERS, then=200, otherwise=403)
CANDIDATE_EXPORT = only(CANDIDATE_EXPORTERS, then=200, otherwise=403)
# The rows post an empty form: an officer allowed to act gets the page again with the errors beside the fields.
CANDIDATE_WORK = only(CANDIDATE_WORKERS, then=400, otherwise=403)
SERVICE_LIST_SCOPE = {"officer_a": 404, "officer_b": 404}  # the service section's list spans every branch

# 纳税信用 data (accounts/roles.py): the credit officer imports; 局领导 sees the imports; the branches see their own
# taxpayers' ratings and events.
CREDIT_IMPORT_READERS = {"credit_officer", "supervisor"}  # credit.view_creditimport
CREDIT_IMPORTERS = {"credit_officer"}  # credit.add_creditimport
CREDIT_VIEWERS = {"officer_a", "officer_b", "credit_officer", "supervisor"}  # view_creditrating/_dishonestyevent
CREDIT_VIEW = only(CREDIT_VIEWERS, then=200, otherwise=403)
# 信用预警 (credit.0004_warnings): the credit officer acts (exports, texts, records calls and visits); 局领导 views.
WARNING_VIEW = only({"credit_officer", "supervisor"}, then=200, otherwise=403)
WARNING_ACTORS = {"credit_officer"}
# 修复、复核、复评 cases: the credit officer registers and decides; 局领导 and the branches (their own) view.
CREDIT_CASE_VIEW = only({"officer_a", "officer_b", "credit_officer", "supervisor"}, then=200, otherwise=403)
CREDIT_CASE_HANDLERS = {"credit_officer"}  # credit.add_creditcase, credit.handle_creditcase
# 银税互动 (credit.0006_banktax): the service section and the credit officer act; 局领导 and the branches (their own)
# view.
BANKTAX_ACTORS = {"service_officer", "credit_officer"}
BANKTAX_VIEW = only({"officer_a", "officer_b", "supervisor", *BANKTAX_ACTORS}, then=200, otherwise=403)

# 风险管理 (risk.0002_risk_permissions): 风险管理股 edits the indicators' parameters and the grade rules; 局领导 views.
RISK_VIEW = only({"risk_officer", "supervisor"}, then=200, otherwise=403)
RISK_EDITORS = {"risk_officer"}
# 事后复核 (risk.0004_sampling_permissions): 风险管理股 sets the parameters and draws a month; 局领导 views and exports.
SAMPLE_VIEW = only({"risk_officer", "supervisor"}, then=200, otherwise=403)
SAMPLE_DRAWERS = {"risk_officer"}


def _sample(f: dict):
    """The 2026-03 sample, drawn once per test from the paid refunds of taxpayer_a and taxpayer_b."""
    if "sample" not in f:
        from risk.sampling.services import monthly_sample_draw

        _ledger(f)
        f["sample"] = monthly_sample_draw(actor=None, period="2026-03", seed=1)
    return f["sample"]


# 集体会商 (risk.0006_consultation_permissions): 风险管理股 hosts (opens, invites, decides) and exports; the refund
# officer and the branches (their own applications') give opinions; 局领导 views and exports.
CONSULTATION_VIEWERS = {"officer_a", "officer_b", "refund_officer", "risk_officer", "supervisor"}
CONSULTATION_SPEAKERS = {"officer_a", "officer_b", "refund_officer", "risk_officer"}
CONSULTATION_HOSTS = {"risk_officer"}
CONSULTATION_EXPORTERS = {"risk_officer", "supervisor"}


# 风险任务 (risk.0008_risk_task_permissions): 风险管理股 acts, imports and exports; the branches view and respond to
# their own branch's tasks; 局领导 views and exports.
RISK_TASK_VIEW = only({"officer_a", "officer_b", "risk_officer", "supervisor"}, then=200, otherwise=403)
RISK_TASK_EXPORT = only({"risk_officer", "supervisor"}, then=200, otherwise=403)
RISK_TASK_ACTORS = {"risk_officer"}


def _risk_task(f: dict, key: str) -> int:
    """A task pushed down to taxpayer_a's or taxpayer_b's branch, with one evidence file, built once per test."""
    name = f"risk_task_{key}"
    if name not in f:
        import datetime as dt

        from django.core.files.base import ContentFile

        from risk.models import RiskTask, RiskTaskFile

        taxpayer = f[f"taxpayer_{key}"]
        task = RiskTask.objects.create(
            taxpayer=taxpayer, source="upper", title="访问矩阵任务", stage="assigned", branch=taxpayer.branch,
            due_on=dt.date(2026, 12, 31),
        )  # fmt: skip
        stored = RiskTaskFile(task=task, original_name="核查报告.pdf", size_bytes=9, sha256="0" * 64)
        stored.file.save(f"matrix-{task.pk}.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
        f[name], f[f"{name}_file"] = task.pk, stored.pk
    return f[name]


# 风险扫描 (risk.0011_scan_pages): the branches see the scans and their own taxpayers' hits; 风险管理股 starts a scan of
# all taxpayers; 风险管理股 and 局领导 export the hits.
RISK_SCAN_VIEW = only({"risk_officer", "supervisor", "officer_a", "officer_b"}, then=200, otherwise=403)
RISK_HIT_EXPORT = only({"risk_officer", "supervisor"}, then=200, otherwise=403)


def _risk_scan(f: dict) -> dict:
    """A finished scan of all taxpayers with a hit on taxpayer_a, and a scan of an application of taxpayer_a, built
    once per test (the second is outside branch B's scope)."""
    if "risk_scans" not in f:
        import datetime as dt

        from risk.models import RiskHit, Scan, ScanResult

        full = Scan.objects.create(kind="all", as_of=dt.date(2026, 6, 30), status="succeeded", taxpayer_count=2)
        RiskHit.objects.create(
            scan=full, taxpayer=f["taxpayer_a"], indicator_code="POL_FOCUS_INDUSTRY", severity="low",
            evidence={"industry_code": "F5123"},
        )  # fmt: skip
        one = Scan.objects.create(kind="application", application_id=1, as_of=dt.date(2026, 6, 30), status="succeeded")
        ScanResult.objects.create(scan=one, taxpayer=f["taxpayer_a"], application_id=1, grade="low")
        f["risk_scans"] = {"all": full.pk, "application_a": one.pk}
    return f["risk_scans"]


def _credit_case(f: dict, key: str) -> int:
    """A case under review for taxpayer_a or taxpayer_b, built once per test."""
    name = f"credit_case_{key}"
    if name not in f:
        import datetime as dt

        from credit.models import CreditCase

        f[name] = CreditCase.objects.create(
            taxpayer=f[f"taxpayer_{key}"], kind="repair", year=2025, contact_name="王会计", contact_phone="13800138000",
            received_on=dt.date(2026, 5, 11), due_on=dt.date(2026, 6, 1), state="reviewing",
        ).pk
    return f[name]


def _candidates(f: dict) -> dict:
    """The 2026-03-17 lists with taxpayer_a (branch A) and taxpayer_b (branch B), built once per test."""
    if "candidates" not in f:
        import datetime as dt
        from decimal import Decimal

        from refund.candidates.services import candidate_lists_build
        from refund.models import CandidateItem, CandidateList, ScreeningResult, ScreeningRun

        run = ScreeningRun.objects.create(
            application_period="2026-03", application_date=dt.date(2026, 3, 17), status="succeeded"
        )
        for taxpayer in (f["taxpayer_a"], f["taxpayer_b"]):
            ScreeningResult.objects.create(run=run, taxpayer=taxpayer, regime="CN-2025-7-class3", eligible=True,
                                           refundable_total=Decimal("1000.00"))
        candidate_lists_build(actor=None, push_date=dt.date(2026, 3, 17), run=run)
        lists = CandidateList.objects.filter(push_date=dt.date(2026, 3, 17))
        f["candidates"] = {
            "list_a": lists.get(branch=f["taxpayer_a"].branch),
            "list_b": lists.get(branch=f["taxpayer_b"].branch),
            "service": lists.get(audience="service"),
            "item_a": CandidateItem.objects.get(taxpayer=f["taxpayer_a"]),
            "item_b": CandidateItem.objects.get(taxpayer=f["taxpayer_b"]),
        }
    return f["candidates"]


# 信用修复提示 (refund.0011_repair_notice_permissions): the refund officer lists, the service section sends.
REPAIR_NOTICE_VIEWERS = {"refund_officer", "service_officer", "credit_officer", "supervisor"}
REPAIR_NOTICE_VIEW = only(REPAIR_NOTICE_VIEWERS, then=200, otherwise=403)
REPAIR_NOTICE_SENDERS = {"refund_officer", "service_officer"}


def _repair_notices(f: dict) -> dict:
    """A finished run in which taxpayer_a and taxpayer_b failed only on their rating, with their notices."""
    if "repair_notices" not in f:
        import datetime as dt
        from decimal import Decimal

        from refund.models import RepairNotice, ScreeningRun

        run = ScreeningRun.objects.create(
            application_period="2026-03", application_date=dt.date(2026, 3, 17), status="succeeded"
        )
        for taxpayer in (f["taxpayer_a"], f["taxpayer_b"]):
            RepairNotice.objects.create(run=run, taxpayer=taxpayer, level="C", refundable_if_b=Decimal("1000.00"))
        f["repair_notices"] = {"run": run}
    return f["repair_notices"]


# 台账 (ledger): view_ledgerentry (branch officers: their branch), view_ledgerrun, export, add_treasurypayment.
LEDGER_VIEWERS = CANDIDATE_VIEWERS
LEDGER_VIEW = only(LEDGER_VIEWERS, then=200, otherwise=403)
LEDGER_RUNS_VIEW = only(LEDGER_VIEWERS - {"officer_a", "officer_b"}, then=200, otherwise=403)
LEDGER_EXPORT = only({"refund_officer", "supervisor"}, then=200, otherwise=403)
# 追缴 (ledger.clawbacks): recorded by the risk officer; the list and its export read by 局领导 and 税政一股 too.
CLAWBACK_VIEW = only({"refund_officer", "supervisor", "risk_officer"}, then=200, otherwise=403)


def _ledger(f: dict) -> dict:
    """A paid application of taxpayer_a (branch A) and of taxpayer_b (branch B), and an approved unpaid one."""
    if "ledger" not in f:
        import datetime as dt

        from ledger.services import payment_record
        from ledger.tests.factories import approved_application

        entries = {}
        for key in ("a", "b"):
            app = approved_application(f[f"taxpayer_{key}"], period="2026-02")
            entries[key] = payment_record(actor=None, application=app, voucher_number=f"M-{key}",
                                          amount=app.confirmed_amount, paid_on=dt.date(2026, 3, 25))
        entries["unpaid_a"] = approved_application(f["taxpayer_a"], period="2026-03")
        f["ledger"] = entries
    return f["ledger"]


# 留抵退税申请 (refund): view / review (调查核实、确认、回退、辅导) / approve, add, export (accounts/roles.py).
APPLICATION_VIEWERS = CANDIDATE_VIEWERS
APPLICATION_REVIEWERS = {"officer_a", "officer_b", "refund_officer"}
APPLICATION_VIEW = only(APPLICATION_VIEWERS, then=200, otherwise=403)


def _applications(f: dict) -> dict:
    """A rejected (final) application of taxpayer_a and a received one of taxpayer_b: every action posted to the
    first is refused the same way whoever posts first, so each persona's answer does not depend on the order."""
    if "applications" not in f:
        import datetime as dt
        from decimal import Decimal

        from refund.models import RefundApplication

        def make(taxpayer, state):
            return RefundApplication.objects.create(
                taxpayer=taxpayer, branch=taxpayer.branch, application_period="2026-03", kind="incremental",
                received_on=dt.date(2026, 3, 10), due_on=dt.date(2026, 3, 24), claimed_amount=Decimal("1000.00"),
                state=state,
            )  # fmt: skip

        f["applications"] = {"a": make(f["taxpayer_a"], "rejected"), "b": make(f["taxpayer_b"], "received")}
    return f["applications"]


def _application_url(name: str, key: str, *args) -> Callable[[dict], str]:
    return lambda f: reverse(name, args=[_applications(f)[key].pk, *args])


def _application_action(action: str, allowed: set[str], data: dict | None = None) -> Endpoint:
    """An action on the rejected application: refused (400) for who may, 403 for who may not, 404 out of scope."""
    expected = {**only(allowed, then=400, otherwise=403), **SCOPED_TO_A}
    return Endpoint(
        _application_url("refund:application_action", "a", action), 403, expected, method="post", data=data
    )


def _consultation_url(name: str, key: str) -> Callable[[dict], str]:
    """A consultation opened on taxpayer_a's (rejected) or taxpayer_b's application, built once per test."""

    def url(f: dict) -> str:
        if "consultations" not in f:
            from accounts.models import User
            from risk.models import Consultation

            host = User.objects.get(username="risk_officer")
            f["consultations"] = {
                k: Consultation.objects.create(application=app, reason="访问矩阵", host=host)
                for k, app in _applications(f).items()
            }
        return reverse(name, args=[f["consultations"][key].pk])

    return url


def _user_url(name: str, username: str) -> Callable[[dict], str]:
    def url(f: dict) -> str:
        from accounts.models import User

        return reverse(name, args=[User.objects.get(username=username).pk])

    return url


def _grant_url(name: str) -> Callable[[dict], str]:
    """A pending grant of 税政一股 to officer_a, asked for by the admin (the two-person rule)."""

    def url(f: dict) -> str:
        from accounts.models import RoleGrantRequest, User
        from accounts.services import user_roles_change

        officer = User.objects.get(username="officer_a")
        user_roles_change(actor=User.objects.get(username="admin"), user=officer, branch=officer.branch,
                          roles=["branch_officer", "refund_officer"], is_active=True, reason="访问矩阵")  # fmt: skip
        return reverse(name, args=[RoleGrantRequest.objects.get(user=officer).pk])

    return url


def _reset_url(name: str) -> Callable[[dict], str]:
    """A pending reset of the refund officer's password (an approver: the two-person rule), asked for by the admin."""

    def url(f: dict) -> str:
        from accounts.models import User
        from accounts.services import user_password_reset

        officer = User.objects.get(username="refund_officer")
        reset = user_password_reset(actor=User.objects.get(username="admin"), user=officer, reason="访问矩阵")
        return reverse(name, args=[reset.request.pk])

    return url


def _candidate_url(name: str, key: str) -> Callable[[dict], str]:
    return lambda f: reverse(name, args=[_candidates(f)[key].pk])


ENDPOINTS: dict[str, Endpoint] = {
    # --- the frame: sign-in, 工作台
    "login": Endpoint(lambda f: reverse("accounts:login"), 302, {ANONYMOUS: 200}),  # signed in: on to 工作台
    "logout": Endpoint(lambda f: reverse("accounts:logout"), 302, {ANONYMOUS: 302}, method="post"),
    "home": Endpoint(lambda f: reverse("home"), 200),
    # The admin site (信息中心 only; read-only for powers): Django sends everyone else to its own sign-in.
    "admin_index": Endpoint(lambda f: reverse("admin:index"), 302, {ANONYMOUS: 302, "admin": 200}),
    "filing_deadlines": Endpoint(lambda f: reverse("taxpayers:filing_deadlines"), 403, {"admin": 200}),
    # --- 纳税人 pages
    "taxpayer_list": Endpoint(lambda f: reverse("taxpayers:list"), 200),
    "taxpayer_export": Endpoint(lambda f: reverse("taxpayers:export"), 200),
    "taxpayer_detail_a": Endpoint(
        lambda f: reverse("taxpayers:detail", args=[f["taxpayer_a"].pk]), 200, SCOPED_TO_A
    ),
    "taxpayer_detail_b": Endpoint(
        lambda f: reverse("taxpayers:detail", args=[f["taxpayer_b"].pk]), 200, SCOPED_TO_B
    ),
    "taxpayer_reveal_a": Endpoint(
        lambda f: reverse("taxpayers:reveal_contacts", args=[f["taxpayer_a"].pk]),
        403,
        {**only(CONTACT_READERS, then=200, otherwise=403), **SCOPED_TO_A},
        method="post",
    ),
    "taxpayer_reveal_b": Endpoint(
        lambda f: reverse("taxpayers:reveal_contacts", args=[f["taxpayer_b"].pk]),
        403,
        {**only(CONTACT_READERS, then=200, otherwise=403), **SCOPED_TO_B},
        method="post",
    ),
    # --- 纳税信用 data
    "credit_imports": Endpoint(
        lambda f: reverse("credit:imports"), 403, only(CREDIT_IMPORT_READERS, then=200, otherwise=403)
    ),
    "credit_import_upload": Endpoint(
        lambda f: reverse("credit:import_upload", args=["ratings"]),
        403,
        only(CREDIT_IMPORTERS, then=200, otherwise=403),
    ),
    "credit_import_upload_post": Endpoint(  # no file: the form again with its error
        lambda f: reverse("credit:import_upload", args=["events"]),
        403,
        only(CREDIT_IMPORTERS, then=400, otherwise=403),
        method="post",
    ),
    "credit_import_template": Endpoint(
        lambda f: reverse("credit:import_template", args=["flags"]),
        403,
        only(CREDIT_IMPORT_READERS, then=200, otherwise=403),
    ),
    "credit_ratings": Endpoint(lambda f: reverse("credit:ratings"), 403, CREDIT_VIEW),
    "credit_events": Endpoint(lambda f: reverse("credit:events"), 403, CREDIT_VIEW),
    "credit_taxpayer_a": Endpoint(
        lambda f: reverse("credit:taxpayer", args=[f["taxpayer_a"].pk]), 403, {**CREDIT_VIEW, **SCOPED_TO_A}
    ),
    "credit_taxpayer_b": Endpoint(
        lambda f: reverse("credit:taxpayer", args=[f["taxpayer_b"].pk]), 403, {**CREDIT_VIEW, **SCOPED_TO_B}
    ),
    "credit_warnings": Endpoint(lambda f: reverse("credit:warnings"), 403, WARNING_VIEW),
    "credit_warning_list": Endpoint(lambda f: reverse("credit:warning_list", args=["follow"]), 403, WARNING_VIEW),
    "credit_warning_export": Endpoint(
        lambda f: reverse("credit:warning_export", args=["at_risk"]),
        403,
        only(WARNING_ACTORS, then=200, otherwise=403),
    ),
    "credit_warning_sms": Endpoint(
        lambda f: reverse("credit:warning_sms", args=["at_risk"]), 403, only(WARNING_ACTORS, then=200, otherwise=403)
    ),
    "credit_warning_sms_post": Endpoint(  # an empty list: nothing sent, back to the list
        lambda f: reverse("credit:warning_sms", args=["repairable"]),
        403,
        only(WARNING_ACTORS, then=302, otherwise=403),
        method="post",
    ),
    "credit_contact_add": Endpoint(  # an empty form: back to the taxpayer's page with the error
        lambda f: reverse("credit:contact_add", args=[f["taxpayer_a"].pk]),
        403,
        only(WARNING_ACTORS, then=302, otherwise=403),
        method="post",
    ),
    "banktax": Endpoint(lambda f: reverse("credit:banktax") + "?told=no&flag=either", 403, BANKTAX_VIEW),
    "banktax_export": Endpoint(
        lambda f: reverse("credit:banktax_export"), 403, only(BANKTAX_ACTORS, then=200, otherwise=403)
    ),
    "banktax_loans": Endpoint(lambda f: reverse("credit:banktax_loans") + "?year=2026", 403, BANKTAX_VIEW),
    "banktax_taxpayer_a": Endpoint(
        lambda f: reverse("credit:banktax_taxpayer", args=[f["taxpayer_a"].pk]), 403, {**BANKTAX_VIEW, **SCOPED_TO_A}
    ),
    "banktax_outreach_add": Endpoint(  # an empty form: back to the taxpayer's page with the error
        lambda f: reverse("credit:banktax_outreach_add", args=[f["taxpayer_a"].pk]),
        403,
        only(BANKTAX_ACTORS, then=302, otherwise=403),
        method="post",
    ),
    "banktax_loan_add": Endpoint(
        lambda f: reverse("credit:banktax_loan_add", args=[f["taxpayer_b"].pk]),
        403,
        only(BANKTAX_ACTORS, then=302, otherwise=403),
        method="post",
    ),
    "credit_cases": Endpoint(lambda f: reverse("credit:cases") + "?state=open&overdue=1", 403, CREDIT_CASE_VIEW),
    "credit_case_a": Endpoint(
        lambda f: reverse("credit:case", args=[_credit_case(f, "a")]), 403, {**CREDIT_CASE_VIEW, **SCOPED_TO_A}
    ),
    "credit_case_b": Endpoint(
        lambda f: reverse("credit:case", args=[_credit_case(f, "b")]), 403, {**CREDIT_CASE_VIEW, **SCOPED_TO_B}
    ),
    "credit_case_new": Endpoint(
        lambda f: reverse("credit:case_new", args=[f["taxpayer_a"].pk]),
        403,
        only(CREDIT_CASE_HANDLERS, then=200, otherwise=403),
    ),
    "credit_case_new_post": Endpoint(  # nothing chosen: the form again with its errors
        lambda f: reverse("credit:case_new", args=[f["taxpayer_b"].pk]),
        403,
        only(CREDIT_CASE_HANDLERS, then=400, otherwise=403),
        method="post",
    ),
    "credit_case_decide": Endpoint(
        lambda f: reverse("credit:case_decide", args=[_credit_case(f, "a")]),
        403,
        only(CREDIT_CASE_HANDLERS, then=200, otherwise=403),
    ),
    "credit_case_decide_post": Endpoint(  # nothing granted and no reason: refused with the form again
        lambda f: reverse("credit:case_decide", args=[_credit_case(f, "b")]),
        403,
        only(CREDIT_CASE_HANDLERS, then=400, otherwise=403),
        method="post",
    ),
    "credit_case_act": Endpoint(  # a step the state does not allow: back to the case with the message
        lambda f: reverse("credit:case_act", args=[_credit_case(f, "a"), "review"]),
        403,
        only(CREDIT_CASE_HANDLERS, then=302, otherwise=403),
        method="post",
    ),
    # --- 数据导入
    "import_list": Endpoint(lambda f: reverse("taxpayers:import_list"), 403, IMPORT_READ),
    "import_upload": Endpoint(lambda f: reverse("taxpayers:import_upload"), 403, IMPORT_WRITE),
    "import_template": Endpoint(
        lambda f: reverse("taxpayers:import_template", args=["returns"]), 403, IMPORT_READ
    ),
    "import_upload_invoices": Endpoint(
        lambda f: reverse("taxpayers:import_upload") + "?kind=supplier_inputs", 403, IMPORT_WRITE
    ),
    "import_template_invoices": Endpoint(
        lambda f: reverse("taxpayers:import_template", args=["supplier_inputs"]), 403, IMPORT_READ
    ),
    "import_detail": Endpoint(
        lambda f: reverse("taxpayers:import_detail", args=[f["import_job"].pk]),
        403,
        IMPORT_READ,
    ),
    "import_errors": Endpoint(
        lambda f: reverse("taxpayers:import_errors_download", args=[f["import_job"].pk]),
        403,
        IMPORT_READ,
    ),
    "import_file": Endpoint(
        lambda f: reverse("taxpayers:import_file_download", args=[f["import_job"].pk]),
        403,
        IMPORT_WRITE,
    ),
    # --- 留抵退税 screening runs, results and explanations
    "screening_run_list": Endpoint(lambda f: reverse("refund:run_list"), 403, SCREENING_READ),
    "screening_run_start": Endpoint(  # an empty form: re-rendered with its errors
        lambda f: reverse("refund:run_start"), 403, only(SCREENING_RUNNERS, then=200, otherwise=403), method="post"
    ),
    "screening_run_detail": Endpoint(
        lambda f: reverse("refund:run_detail", args=[f["screening_run"].pk]), 403, SCREENING_READ
    ),
    "screening_results": Endpoint(
        lambda f: reverse("refund:run_results", args=[f["screening_run"].pk]), 403, SCREENING_READ
    ),
    "screening_export": Endpoint(
        lambda f: reverse("refund:run_export", args=[f["screening_run"].pk]),
        403,
        only(SCREENING_EXPORTERS, then=200, otherwise=403),
    ),
    "screening_explain_a": Endpoint(
        lambda f: reverse("refund:run_explain", args=[f["screening_run"].pk, f["taxpayer_a"].pk]),
        403,
        {**SCREENING_READ, **SCOPED_TO_A},
    ),
    "screening_explain_b": Endpoint(
        lambda f: reverse("refund:run_explain", args=[f["screening_run"].pk, f["taxpayer_b"].pk]),
        403,
        {**SCREENING_READ, **SCOPED_TO_B},
    ),
    "taxpayer_explain_a": Endpoint(
        lambda f: reverse("refund:taxpayer_explain", args=[f["taxpayer_a"].pk]),
        403,
        {**SCREENING_READ, **SCOPED_TO_A},
    ),
    "taxpayer_explain_b": Endpoint(
        lambda f: reverse("refund:taxpayer_explain", args=[f["taxpayer_b"].pk]),
        403,
        {**SCREENING_READ, **SCOPED_TO_B},
    ),
    "what_if_a": Endpoint(
        lambda f: reverse("refund:what_if", args=[f["taxpayer_a"].pk]) + "?credit_level=C",
        403,
        {**SCREENING_READ, **SCOPED_TO_A},
    ),
    "what_if_b": Endpoint(
        lambda f: reverse("refund:what_if", args=[f["taxpayer_b"].pk]) + "?credit_level=C",
        403,
        {**SCREENING_READ, **SCOPED_TO_B},
    ),
    # --- 审计日志
    "audit_list": Endpoint(lambda f: reverse("accounts:audit_list"), 403, only(AUDIT_READERS, then=200, otherwise=403)),
    "audit_export": Endpoint(
        lambda f: reverse("accounts:audit_export"), 403, only(AUDIT_READERS, then=200, otherwise=403)
    ),
    # --- 用户与岗位, 岗位授权确认
    "user_list": Endpoint(lambda f: reverse("accounts:user_list"), 403, only(ROLE_MANAGERS, then=200, otherwise=403)),
    "user_detail": Endpoint(
        _user_url("accounts:user_detail", "officer_a"), 403, only(ROLE_MANAGERS, then=200, otherwise=403)
    ),
    "user_roles_preview": Endpoint(  # an empty form: the confirmation of what would change, nothing saved
        _user_url("accounts:user_detail", "officer_a"), 403, only(ROLE_MANAGERS, then=200, otherwise=403),
        method="post",
    ),
    "role_requests": Endpoint(
        lambda f: reverse("accounts:role_requests"), 403, only(ROLE_CONFIRMERS, then=200, otherwise=403)
    ),
    "role_request_approve": Endpoint(  # the supervisor confirms; the admin asked for it and is refused
        _grant_url("accounts:role_request_approve"), 403, {"supervisor": 302, "admin": 400}, method="post"
    ),
    "role_request_reject_nothing": Endpoint(  # no reason: 400 beside the field
        _grant_url("accounts:role_request_reject"), 403, only(ROLE_CONFIRMERS, then=400, otherwise=403),
        method="post",
    ),
    "role_request_withdraw": Endpoint(_grant_url("accounts:role_request_withdraw"), 403, {"admin": 302}, method="post"),
    # --- 重置密码 (under the same rule) and 修改密码 (everyone)
    "user_password_reset_nothing": Endpoint(  # no reason: 400 beside the field
        _user_url("accounts:user_password_reset", "officer_a"), 403, only(ROLE_MANAGERS, then=400, otherwise=403),
        method="post",
    ),
    "password_reset_approve": Endpoint(  # the supervisor confirms and sees the password; the admin asked for it
        _reset_url("accounts:password_reset_approve"), 403, {"supervisor": 200, "admin": 400}, method="post"
    ),
    "password_reset_reject_nothing": Endpoint(  # no reason: 400 beside the field
        _reset_url("accounts:password_reset_reject"), 403, only(ROLE_CONFIRMERS, then=400, otherwise=403),
        method="post",
    ),
    "password_reset_withdraw": Endpoint(
        _reset_url("accounts:password_reset_withdraw"), 403, {"admin": 302}, method="post"
    ),
    "password_change": Endpoint(lambda f: reverse("accounts:password_change"), 200),
    "password_change_nothing": Endpoint(  # an empty form: the page again with the errors
        lambda f: reverse("accounts:password_change"), 200, method="post"
    ),
    # --- 消息通知 (notify)
    "sms_inbox": Endpoint(lambda f: reverse("notify:inbox"), 200),
    "sms_inbox_read": Endpoint(lambda f: reverse("notify:inbox_mark_read"), 302, method="post"),
    "sms_message_list": Endpoint(
        lambda f: reverse("notify:message_list"), 403, only(SMS_VIEWERS, then=200, otherwise=403)
    ),
    "sms_message_export": Endpoint(
        lambda f: reverse("notify:message_export"), 403, only(SMS_SENDERS, then=200, otherwise=403)
    ),
    "sms_message_resend_one": Endpoint(  # no reason yet: the confirmation page
        lambda f: reverse("notify:message_resend", args=[_failed_sms().pk]), 403,
        only(SMS_SENDERS, then=200, otherwise=403), method="post",
    ),
    "sms_messages_resend": Endpoint(  # nothing selected: 400 with the reason why
        lambda f: reverse("notify:messages_resend"), 403, only(SMS_SENDERS, then=400, otherwise=403), method="post"
    ),
    "sms_batch_list": Endpoint(
        lambda f: reverse("notify:batch_list"), 403, only(SMS_VIEWERS, then=200, otherwise=403)
    ),
    "sms_batch_export": Endpoint(
        lambda f: reverse("notify:batch_export"), 403, only(SMS_SENDERS, then=200, otherwise=403)
    ),
    "sms_batch_detail": Endpoint(
        lambda f: reverse("notify:batch_detail", args=[_sms_batch().pk]),
        403,
        only(SMS_VIEWERS, then=200, otherwise=403),
    ),
    "sms_batch_new": Endpoint(
        lambda f: reverse("notify:batch_new"), 403, only(SMS_SENDERS, then=200, otherwise=403)
    ),
    "sms_batch_confirm": Endpoint(  # no draft: back to the form
        lambda f: reverse("notify:batch_confirm"), 403, only(SMS_SENDERS, then=302, otherwise=403), method="post"
    ),
    "sms_template_info": Endpoint(
        lambda f: reverse("notify:template_info"), 403, only(SMS_SENDERS, then=200, otherwise=403)
    ),
    "mas_report_wrong_token": Endpoint(
        lambda f: reverse("notify:mas_report", args=["wrong-token"]), 404, {ANONYMOUS: 404}, method="post"
    ),
    # --- 候选名单 (refund)
    "candidate_lists": Endpoint(lambda f: reverse("refund:candidate_lists"), 403, CANDIDATE_VIEW),
    "candidate_list_a": Endpoint(
        _candidate_url("refund:candidate_list_detail", "list_a"), 403, {**CANDIDATE_VIEW, **SCOPED_TO_A}
    ),
    "candidate_list_b": Endpoint(
        _candidate_url("refund:candidate_list_detail", "list_b"), 403, {**CANDIDATE_VIEW, **SCOPED_TO_B}
    ),
    "candidate_list_service": Endpoint(
        _candidate_url("refund:candidate_list_detail", "service"), 403, {**CANDIDATE_VIEW, **SERVICE_LIST_SCOPE}
    ),
    "candidate_export_a": Endpoint(
        _candidate_url("refund:candidate_list_export", "list_a"), 403, {**CANDIDATE_EXPORT, **SCOPED_TO_A}
    ),
    "candidate_export_service": Endpoint(
        _candidate_url("refund:candidate_list_export", "service"), 403, {**CANDIDATE_EXPORT, **SERVICE_LIST_SCOPE}
    ),
    "candidate_remind_service": Endpoint(
        _candidate_url("refund:candidate_remind", "service"), 403, {"service_officer": 200}
    ),
    "candidate_build": Endpoint(
        lambda f: reverse("refund:candidate_build"), 403, {"refund_officer": 302}, method="post"
    ),
    "candidate_item_a": Endpoint(
        _candidate_url("refund:candidate_item", "item_a"), 403, {**CANDIDATE_VIEW, **SCOPED_TO_A}
    ),
    "candidate_item_b": Endpoint(
        _candidate_url("refund:candidate_item", "item_b"), 403, {**CANDIDATE_VIEW, **SCOPED_TO_B}
    ),
    "candidate_item_verify_a": Endpoint(
        _candidate_url("refund:candidate_item_verify", "item_a"), 403, {**CANDIDATE_WORK, **SCOPED_TO_A}, method="post"
    ),
    "candidate_item_decline_b": Endpoint(
        _candidate_url("refund:candidate_item_decline", "item_b"), 403, {**CANDIDATE_WORK, **SCOPED_TO_B},
        method="post",
    ),
    "candidate_item_reopen_a": Endpoint(
        _candidate_url("refund:candidate_item_reopen", "item_a"), 403, {**CANDIDATE_WORK, **SCOPED_TO_A}, method="post"
    ),
    "candidate_item_coach_b": Endpoint(
        _candidate_url("refund:candidate_item_coach", "item_b"), 403, {**CANDIDATE_WORK, **SCOPED_TO_B}, method="post"
    ),
    "my_candidates": Endpoint(lambda f: reverse("refund:my_candidates"), 403, CANDIDATE_VIEW),
    "my_candidates_export": Endpoint(lambda f: reverse("refund:my_candidates_export"), 403, CANDIDATE_EXPORT),
    "upper_list_import": Endpoint(lambda f: reverse("refund:upper_list_import"), 403, {"refund_officer": 200}),
    "candidate_adhoc_push": Endpoint(  # not a 即时名单: refused with a message, back to the list
        _candidate_url("refund:candidate_adhoc_push", "service"), 403, {"refund_officer": 302}, method="post"
    ),
    # --- 信用修复提示 (refund)
    "repair_notices": Endpoint(
        lambda f: (_repair_notices(f), reverse("refund:repair_notices"))[1], 403, REPAIR_NOTICE_VIEW
    ),
    "repair_notices_export": Endpoint(
        lambda f: (_repair_notices(f), reverse("refund:repair_notices_export"))[1], 403, REPAIR_NOTICE_VIEW
    ),
    "repair_notices_build": Endpoint(  # no finished run: refused with a message, back to the list
        lambda f: reverse("refund:repair_notices_build"), 403, {"refund_officer": 302}, method="post"
    ),
    "repair_notices_send": Endpoint(  # the confirmation
        lambda f: (_repair_notices(f), reverse("refund:repair_notices_send"))[1],
        403,
        only(REPAIR_NOTICE_SENDERS, then=200, otherwise=403),
    ),
    # --- 台账 (ledger)
    "ledger_entries": Endpoint(lambda f: reverse("ledger:entries"), 403, LEDGER_VIEW),
    "ledger_entry_a": Endpoint(
        lambda f: reverse("ledger:entry_detail", args=[_ledger(f)["a"].pk]), 403, {**LEDGER_VIEW, **SCOPED_TO_A}
    ),
    "ledger_entry_b": Endpoint(
        lambda f: reverse("ledger:entry_detail", args=[_ledger(f)["b"].pk]), 403, {**LEDGER_VIEW, **SCOPED_TO_B}
    ),
    "ledger_export": Endpoint(lambda f: reverse("ledger:entries_export"), 403, LEDGER_EXPORT),
    "ledger_refunded_export": Endpoint(lambda f: reverse("ledger:refunded_export"), 403, LEDGER_EXPORT),
    "ledger_unpaid_export": Endpoint(lambda f: reverse("ledger:unpaid_export"), 403, LEDGER_EXPORT),
    "ledger_unpaid": Endpoint(lambda f: reverse("ledger:unpaid"), 403, {"refund_officer": 200}),
    "ledger_payment_a": Endpoint(  # an empty form: 待退库 again with the errors beside the row's fields
        lambda f: reverse("ledger:payment_create", args=[_ledger(f)["unpaid_a"].pk]), 403, {"refund_officer": 400},
        method="post",
    ),
    "ledger_payment_import": Endpoint(lambda f: reverse("ledger:payment_import"), 403, {"refund_officer": 200}),
    "ledger_payment_sample": Endpoint(lambda f: reverse("ledger:payment_import_sample"), 403, {"refund_officer": 200}),
    "ledger_runs": Endpoint(lambda f: reverse("ledger:runs"), 403, LEDGER_RUNS_VIEW),
    "ledger_run_register": Endpoint(  # no day: the runs page again with the error beside the date
        lambda f: reverse("ledger:run_register"), 403, {"refund_officer": 400}, method="post"
    ),
    "ledger_clawbacks": Endpoint(lambda f: reverse("ledger:clawbacks"), 403, CLAWBACK_VIEW),
    "ledger_clawbacks_export": Endpoint(lambda f: reverse("ledger:clawbacks_export"), 403, CLAWBACK_VIEW),
    "ledger_clawback_form_a": Endpoint(
        lambda f: reverse("ledger:clawback_create", args=[_ledger(f)["a"].application_id]), 403, {"risk_officer": 200}
    ),
    "ledger_clawback_post_a": Endpoint(  # an empty form: the form again with the errors beside the fields
        lambda f: reverse("ledger:clawback_create", args=[_ledger(f)["a"].application_id]),
        403,
        {"risk_officer": 400},
        method="post",
    ),
    # --- 留抵退税申请 (refund)
    "application_queue": Endpoint(lambda f: reverse("refund:application_queue"), 403, APPLICATION_VIEW),
    "my_applications": Endpoint(lambda f: reverse("refund:my_applications"), 403, APPLICATION_VIEW),
    "application_queue_export": Endpoint(
        lambda f: reverse("refund:application_queue_export"), 403, {"refund_officer": 200, "supervisor": 200}
    ),
    "application_batch_approve_nothing": Endpoint(  # nothing selected: 400 with what to do
        lambda f: reverse("refund:application_batch"), 403, {"refund_officer": 400}, method="post",
        data={"action": "approve"},
    ),
    "application_batch_assign_nothing": Endpoint(
        lambda f: reverse("refund:application_batch"), 403, only(APPLICATION_REVIEWERS, then=400, otherwise=403),
        method="post", data={"action": "assign"},
    ),
    "application_detail_a": Endpoint(
        _application_url("refund:application_detail", "a"), 403, {**APPLICATION_VIEW, **SCOPED_TO_A}
    ),
    "application_detail_b": Endpoint(
        _application_url("refund:application_detail", "b"), 403, {**APPLICATION_VIEW, **SCOPED_TO_B}
    ),
    "application_investigate_a": _application_action("investigate", APPLICATION_REVIEWERS),
    "application_confirm_a": _application_action("confirm", APPLICATION_REVIEWERS),
    "application_return_a": _application_action("return", APPLICATION_REVIEWERS),  # no reason: 400
    "application_recompute_a": _application_action("recompute", APPLICATION_REVIEWERS),
    "application_approve_a": _application_action("approve", {"refund_officer"}),
    "application_reject_a": _application_action("reject", {"refund_officer"}),  # no reason: 400
    "application_coaching_a": Endpoint(  # empty form: 400
        _application_url("refund:application_coaching_add", "a"), 403,
        {**only(APPLICATION_REVIEWERS, then=400, otherwise=403), **SCOPED_TO_A}, method="post",
    ),
    "application_sign_off_a": _application_action("sign_off", {"supervisor"}),  # rejected: 400
    # 大额退税签批: the refund officer sees what waits and the threshold; the supervisor also sets it.
    "sign_off_page": Endpoint(
        lambda f: reverse("refund:sign_off"), 403, {"refund_officer": 200, "supervisor": 200}
    ),
    "sign_off_threshold_post": Endpoint(  # an empty form: the page again with its errors
        lambda f: reverse("refund:sign_off"), 403, {"supervisor": 400}, method="post"
    ),
    "application_new": Endpoint(lambda f: reverse("refund:application_new"), 403, {"refund_officer": 200}),
    "application_import": Endpoint(lambda f: reverse("refund:application_import"), 403, {"refund_officer": 200}),
    # --- 风险管理: the indicator library and the grade rules; 风险管理股 edits, 局领导 views.
    "risk_indicators": Endpoint(lambda f: reverse("risk:indicators"), 403, RISK_VIEW),
    "risk_indicator": Endpoint(lambda f: reverse("risk:indicator", args=["OPS_INPUT_SURGE"]), 403, RISK_VIEW),
    "risk_indicator_post": Endpoint(  # an empty form: the page again with its errors
        lambda f: reverse("risk:indicator", args=["OPS_INPUT_SURGE"]),
        403,
        only(RISK_EDITORS, then=400, otherwise=403),
        method="post",
    ),
    "risk_grade_rules": Endpoint(lambda f: reverse("risk:grade_rules"), 403, RISK_VIEW),
    "risk_grade_rules_post": Endpoint(  # an empty form: the page again with its errors
        lambda f: reverse("risk:grade_rules"), 403, only(RISK_EDITORS, then=400, otherwise=403), method="post"
    ),
    # --- 事后复核: the monthly samples and their parameters.
    "risk_samples": Endpoint(lambda f: reverse("risk:reviews"), 403, SAMPLE_VIEW),
    "risk_sample_draw": Endpoint(  # no month: the list again with the error beside the field
        lambda f: reverse("risk:review_draw"), 403, only(SAMPLE_DRAWERS, then=400, otherwise=403), method="post"
    ),
    "risk_sample": Endpoint(lambda f: reverse("risk:review", args=[str(_sample(f).period)]), 403, SAMPLE_VIEW),
    "risk_sample_export": Endpoint(
        lambda f: reverse("risk:review_export", args=[str(_sample(f).period)]), 403, SAMPLE_VIEW
    ),
    "risk_sample_parameters": Endpoint(lambda f: reverse("risk:review_parameters"), 403, SAMPLE_VIEW),
    "risk_sample_parameters_post": Endpoint(  # an empty form: the page again with its errors
        lambda f: reverse("risk:review_parameters"), 403, only(SAMPLE_DRAWERS, then=400, otherwise=403), method="post"
    ),
    # --- 集体会商: list, export, opening on an application, the page and its forms (empty forms: 400).
    "consultations": Endpoint(
        lambda f: reverse("risk:consultations"), 403, only(CONSULTATION_VIEWERS, then=200, otherwise=403)
    ),
    "consultation_export": Endpoint(
        lambda f: reverse("risk:consultation_export"), 403, only(CONSULTATION_EXPORTERS, then=200, otherwise=403)
    ),
    "consultation_open_b": Endpoint(
        _application_url("risk:consultation_open", "b"), 403, only(CONSULTATION_HOSTS, then=200, otherwise=403)
    ),
    "consultation_open_b_post": Endpoint(
        _application_url("risk:consultation_open", "b"),
        403,
        only(CONSULTATION_HOSTS, then=400, otherwise=403),
        method="post",
    ),
    "consultation_a": Endpoint(
        _consultation_url("risk:consultation", "a"),
        403,
        {**only(CONSULTATION_VIEWERS, then=200, otherwise=403), **SCOPED_TO_A},
    ),
    "consultation_b": Endpoint(
        _consultation_url("risk:consultation", "b"),
        403,
        {**only(CONSULTATION_VIEWERS, then=200, otherwise=403), **SCOPED_TO_B},
    ),
    "consultation_opinion_a": Endpoint(
        _consultation_url("risk:consultation_opinion", "a"),
        403,
        {**only(CONSULTATION_SPEAKERS, then=400, otherwise=403), **SCOPED_TO_A},
        method="post",
    ),
    "consultation_invite_a": Endpoint(
        _consultation_url("risk:consultation_invite", "a"),
        403,
        only(CONSULTATION_HOSTS, then=400, otherwise=403),
        method="post",
    ),
    "consultation_decide_a": Endpoint(
        _consultation_url("risk:consultation_decide", "a"),
        403,
        only(CONSULTATION_HOSTS, then=400, otherwise=403),
        method="post",
    ),
    # --- 风险任务: 风险管理股 acts; the branches respond to their own branch's (another branch's is a 404).
    "risk_tasks": Endpoint(lambda f: reverse("risk:tasks") + "?stage=open&overdue=1", 403, RISK_TASK_VIEW),
    "risk_task_export": Endpoint(lambda f: reverse("risk:task_export") + "?source=upper", 403, RISK_TASK_EXPORT),
    "risk_task_a": Endpoint(
        lambda f: reverse("risk:task", args=[_risk_task(f, "a")]), 403, {**RISK_TASK_VIEW, **SCOPED_TO_A}
    ),
    "risk_task_b": Endpoint(
        lambda f: reverse("risk:task", args=[_risk_task(f, "b")]), 403, {**RISK_TASK_VIEW, **SCOPED_TO_B}
    ),
    "risk_task_new": Endpoint(lambda f: reverse("risk:task_new"), 403, only(RISK_TASK_ACTORS, then=200, otherwise=403)),
    "risk_task_new_post": Endpoint(  # an empty form: the page again with its errors
        lambda f: reverse("risk:task_new"), 403, only(RISK_TASK_ACTORS, then=400, otherwise=403), method="post"
    ),
    "risk_task_import": Endpoint(
        lambda f: reverse("risk:task_import"), 403, only(RISK_TASK_ACTORS, then=200, otherwise=403)
    ),
    "risk_task_import_post": Endpoint(  # no file: the page again with its errors
        lambda f: reverse("risk:task_import"), 403, only(RISK_TASK_ACTORS, then=400, otherwise=403), method="post"
    ),
    "risk_task_push_down": Endpoint(  # nothing ticked: back to the list with the message
        lambda f: reverse("risk:task_push_down"), 403, only(RISK_TASK_ACTORS, then=302, otherwise=403), method="post"
    ),
    "risk_task_act": Endpoint(  # 办结 with an empty form: the risk section gets the page again with its errors
        lambda f: reverse("risk:task_act", args=[_risk_task(f, "a"), "close"]),
        403,
        {**only(RISK_TASK_ACTORS, then=400, otherwise=403), **SCOPED_TO_A},
        method="post",
    ),
    "risk_task_respond": Endpoint(  # 应对 with an empty form: its branch and the risk section get the errors
        lambda f: reverse("risk:task_act", args=[_risk_task(f, "b"), "respond"]),
        403,
        {**only({"officer_b", "risk_officer"}, then=400, otherwise=403), **SCOPED_TO_B},
        method="post",
    ),
    "risk_task_file_upload": Endpoint(  # no file: the page again with the error
        lambda f: reverse("risk:task_file_upload", args=[_risk_task(f, "a")]),
        403,
        {**only({"officer_a", "risk_officer"}, then=400, otherwise=403), **SCOPED_TO_A},
        method="post",
    ),
    "risk_task_file_download": Endpoint(
        lambda f: reverse("risk:task_file_download", args=[_risk_task(f, "b"), f["risk_task_b_file"]]),
        403,
        {**RISK_TASK_VIEW, **SCOPED_TO_B},
    ),
    "risk_scans": Endpoint(lambda f: reverse("risk:scans"), 403, RISK_SCAN_VIEW),
    "risk_scan_start": Endpoint(  # queued after commit (never, in a rolled-back test): the scan's page
        lambda f: reverse("risk:scan_start"), 403, only(RISK_EDITORS, then=302, otherwise=403), method="post"
    ),
    "risk_scan_all": Endpoint(lambda f: reverse("risk:scan", args=[_risk_scan(f)["all"]]), 403, RISK_SCAN_VIEW),
    "risk_scan_application_a": Endpoint(
        lambda f: reverse("risk:scan", args=[_risk_scan(f)["application_a"]]), 403, {**RISK_SCAN_VIEW, **SCOPED_TO_A}
    ),
    "risk_scan_export": Endpoint(
        lambda f: reverse("risk:scan_export", args=[_risk_scan(f)["all"]]), 403, RISK_HIT_EXPORT
    ),
    # --- REST API
    "api_taxpayer_list": Endpoint(lambda f: reverse("api:taxpayer-list"), 200, api=True),
    "api_taxpayer_detail_a": Endpoint(
        lambda f: reverse("api:taxpayer-detail", args=[f["taxpayer_a"].pk]), 200, SCOPED_TO_A, api=True
    ),
    "api_taxpayer_detail_b": Endpoint(
        lambda f: reverse("api:taxpayer-detail", args=[f["taxpayer_b"].pk]), 200, SCOPED_TO_B, api=True
    ),
    "api_taxpayer_returns_a": Endpoint(
        lambda f: reverse("api:taxpayer-returns", args=[f["taxpayer_a"].pk]), 200, SCOPED_TO_A, api=True
    ),
    "api_taxpayer_returns_b": Endpoint(
        lambda f: reverse("api:taxpayer-returns", args=[f["taxpayer_b"].pk]), 200, SCOPED_TO_B, api=True
    ),
    "api_application_list": Endpoint(lambda f: reverse("api:refund-application-list"), 403, APPLICATION_VIEW, api=True),
    "api_application_detail_a": Endpoint(
        _application_url("api:refund-application-detail", "a"), 403, {**APPLICATION_VIEW, **SCOPED_TO_A}, api=True
    ),
    "api_application_detail_b": Endpoint(
        _application_url("api:refund-application-detail", "b"), 403, {**APPLICATION_VIEW, **SCOPED_TO_B}, api=True
    ),
    "api_application_create_nothing": Endpoint(  # an empty arrival: 400 naming the fields, for who may register
        lambda f: reverse("api:refund-application-list"), 403, {"refund_officer": 400}, method="post", api=True
    ),
    "api_token_nothing": Endpoint(  # no credentials: 400 naming the fields, whoever asks
        lambda f: reverse("api:token"), 400, {ANONYMOUS: 400}, method="post", api=True
    ),
    "api_schema": Endpoint(lambda f: reverse("api-schema"), 200, api=True),
    "api_docs": Endpoint(lambda f: reverse("api-docs"), 200, api=True),
}


def _failed_import(personas):
    """A finished, failed import of one bad row, uploaded by the refund officer."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from taxpayers.services import import_job_create, import_job_run

    upload = SimpleUploadedFile("bad.csv", "纳税人识别号,所属期\n123,2024-13\n".encode())
    job = import_job_create(actor=personas["refund_officer"], kind="returns", uploaded_file=upload)
    import_job_run(job_id=job.pk)
    return job


def _screening_run(*taxpayers):
    """A finished run with one (data-problem) result per taxpayer."""
    import datetime as dt

    from refund.models import ScreeningRun
    from refund.rules import CaseError
    from refund.screening.decisions import result_from_decision

    run = ScreeningRun.objects.create(
        application_period="2026-03", application_date=dt.date(2026, 3, 1), status=ScreeningRun.Status.SUCCEEDED
    )
    for taxpayer in taxpayers:
        decision = CaseError("missing_return", "缺少申报表")
        result_from_decision(run=run, taxpayer_id=taxpayer.pk, decision=decision).save()
    return run


def _sms_batch():
    from notify.models import SmsBatch

    return SmsBatch.objects.create(name="访问矩阵批次")


def _failed_sms():
    from notify.models import SmsMessage

    return SmsMessage.objects.create(recipient="13800138000", text="您好", idempotency_key="matrix:1", status="failed")


def _outcome(endpoint: Endpoint, response) -> int | str:
    """What happened, in the table's terms."""
    login_url = reverse("accounts:login") + "?next="
    if response.status_code == 302 and response["Location"].startswith(login_url):
        return LOGIN
    if endpoint.api and response.status_code == 401:
        return 403  # token clients get 401, browser sessions 403: both are "not signed in"
    return response.status_code


def _fixtures(personas, taxpayer_a, taxpayer_b) -> dict:
    return {
        "taxpayer_a": taxpayer_a,
        "taxpayer_b": taxpayer_b,
        "import_job": _failed_import(personas),
        "screening_run": _screening_run(taxpayer_a, taxpayer_b),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint_name", list(ENDPOINTS))
def test_access_matrix(client_for, personas, taxpayer_a, taxpayer_b, endpoint_name):
    """One endpoint against every persona; reports every mismatch at once."""
    endpoint = ENDPOINTS[endpoint_name]
    url = endpoint.url(_fixtures(personas, taxpayer_a, taxpayer_b))
    mismatches = []
    for username in ALL_USERS:
        client = client_for(None if username == ANONYMOUS else username)
        response = getattr(client, endpoint.method)(url, endpoint.data or {})
        expected, got = endpoint.status_for(username), _outcome(endpoint, response)
        if got != expected:
            mismatches.append(f"{username}: expected {expected}, got {got}")
    assert not mismatches, f"{endpoint.method.upper()} {url}\n" + "\n".join(mismatches)


# --- every route has a row ---------------------------------------------------------------------------

# Routes and namespaces not in the table, and why. Everything else — each page, download, form target and API
# route — needs at least one row above.
EXEMPT_ROUTES = {
    "health": "public by design for the load balancer; its answer depends on the worker (tests/test_health.py)",
}
EXEMPT_NAMESPACES = {
    "admin": "Django's admin site: the admin_index row checks who gets in; accounts/tests check it changes no powers",
}


def _route_names(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[str]:
    """Every named route, as ``namespace:name``, walking included URLconfs."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            yield from _route_names(pattern, inner)
        else:
            name = pattern.name or pattern.lookup_str  # an unnamed route is named by its view
            yield f"{namespace}:{name}" if namespace else name


@pytest.mark.django_db
def test_every_route_has_a_row_in_the_matrix(personas, taxpayer_a, taxpayer_b):
    covered = set()
    for endpoint in ENDPOINTS.values():
        with transaction.atomic():  # each row's URL builds its own objects: keep the rows from meeting
            covered.add(resolve(urlsplit(endpoint.url(_fixtures(personas, taxpayer_a, taxpayer_b))).path).view_name)
            transaction.set_rollback(True)
    routes = set(_route_names())
    missing = sorted(
        name
        for name in routes - covered - set(EXEMPT_ROUTES)
        if name.partition(":")[0] not in EXEMPT_NAMESPACES
    )
    assert not missing, "routes without a row in ENDPOINTS: " + ", ".join(missing)
    assert {"accounts:login", "taxpayers:filing_deadlines", "api:token"} <= covered  # the walk reached them


# --- what each persona sees in lists and exports ---------------------------------------------------

VISIBLE = {username: {"a", "b"} for username in PERSONAS} | {"officer_a": {"a"}, "officer_b": {"b"}}


def _list_names(client) -> set[str]:
    return {t.name for t in client.get(reverse("taxpayers:list")).context["page_obj"]}


def _export_names(client) -> set[str]:
    response = client.get(reverse("taxpayers:export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return {row[1] for row in list(sheet.iter_rows(values_only=True))[1:]}


def _api_names(client) -> set[str]:
    return {row["name"] for row in client.get(reverse("api:taxpayer-list")).json()["results"]}


@pytest.mark.django_db
@pytest.mark.parametrize("username", list(PERSONAS))
@pytest.mark.parametrize("read", [_list_names, _export_names, _api_names], ids=["list", "export", "api"])
def test_lists_and_exports_show_only_the_personas_taxpayers(client_for, taxpayer_a, taxpayer_b, username, read):
    expected = {{"a": taxpayer_a, "b": taxpayer_b}[key].name for key in VISIBLE[username]}
    assert read(client_for(username)) == expected
