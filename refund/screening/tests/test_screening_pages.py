"""The screening pages: runs (start, progress, totals), results (filters, sort, export) and the explanation
with its what-if panel — values, branch scoping and errors in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditEvent
from core.periods import Period
from credit.tests.factories import TaxpayerFactory, rate
from refund.labels import CONDITION_TITLES, ERROR_HELP, REGIME_TITLES
from refund.models import ScreeningResult, ScreeningRun
from refund.rules import ERROR_CODES
from refund.rules.conditions import CONDITION_ORDER
from refund.rules.options import OPTION_SPECS
from refund.rules.regimes import REGIME_CODES
from refund.screening.decisions import result_from_decision
from refund.screening.services import screening_run_execute
from refund.tests import screening_data as sd

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CLASS3 = "CN-2025-7-class3"


@pytest.fixture
def screening(org, personas):
    """Branch A: an eligible taxpayer and one without the 2026-02 return; branch B: one rated C and one
    that enjoyed 即征即退. One finished run of 2026-03 holds their results."""
    people = {
        "eligible": sd.eligible_taxpayer(org["branch_a"], name="城东建筑有限公司"),
        "error": sd.error_taxpayer(org["branch_a"], name="城东缺表有限公司"),
        "rated_c": sd.ineligible_taxpayer(org["branch_b"], name="城西信用有限公司"),
        "immediate": sd.immediate_refund_taxpayer(org["branch_b"], name="城西即征即退有限公司"),
    }
    run = sd.finished_run(list(people.values()), created_by=personas["refund_officer"])
    return {"run": run, **people}


def html(response) -> str:
    return response.content.decode()


def results_url(run, **params):
    from django.utils.http import urlencode

    return reverse("refund:run_results", args=[run.pk]) + (f"?{urlencode(params)}" if params else "")


def names_on_page(response) -> list[str]:
    return [result.taxpayer.name for result in response.context["page_obj"]]


# --- labels ----------------------------------------------------------------------------------------------


def test_every_code_has_chinese_words():
    assert set(CONDITION_TITLES) == set(CONDITION_ORDER)
    assert set(ERROR_HELP) == set(ERROR_CODES)
    assert set(REGIME_TITLES) == set(REGIME_CODES)


# --- run list and start ----------------------------------------------------------------------------------


def test_run_list_shows_status_progress_and_figures(client_for, screening):
    ScreeningRun.objects.create(application_period="2026-04", application_date=dt.date(2026, 4, 1))
    response = client_for("refund_officer").get(reverse("refund:run_list"))
    page = html(response)
    run = next(r for r in response.context["runs"] if r.pk == screening["run"].pk)
    assert (run.figures.screened, run.figures.eligible, run.figures.errors) == (4, 1, 1)
    assert run.figures.amount == Decimal("1200000.00")
    assert "120.00" in page  # 万元
    assert '<span class="tag tag-done">已完成</span>' in page
    assert '<span class="tag tag-waiting">排队中</span>' in page
    assert "2026年03月" in page


@pytest.mark.parametrize(
    ("username", "screened", "eligible", "amount"),
    [("officer_a", 2, 1, Decimal("1200000.00")), ("officer_b", 2, 0, Decimal("0"))],
)
def test_run_list_figures_of_a_branch_officer_are_its_branch(client_for, screening, username, screened, eligible,
                                                             amount):
    response = client_for(username).get(reverse("refund:run_list"))
    run = response.context["runs"][0]
    assert (run.figures.screened, run.figures.eligible, run.figures.amount) == (screened, eligible, amount)
    assert "发起筛查" not in html(response)  # no run_screening


def test_start_form_has_the_defaults_and_the_questions(client_for, org):
    page = html(client_for("refund_officer").get(reverse("refund:run_list")))
    today = timezone.localdate()
    assert f'value="{today:%Y-%m}"' in page
    assert f'value="{today:%Y-%m-%d}"' in page
    for spec in OPTION_SPECS.values():
        assert spec.question in page
        assert "（默认）" in page
    form = client_for("refund_officer").get(reverse("refund:run_list")).context["form"]
    assert {name: form[name].value() for name in OPTION_SPECS} == {n: s.default for n, s in OPTION_SPECS.items()}


def test_start_creates_the_run_with_its_options_audited_and_enqueued(
    client_for, personas, django_capture_on_commit_callbacks
):
    data = {
        "application_period": "2026-03",
        "application_date": "2026-03-12",
        "small_micro_after_2022": "general_regime",
        "class3_ratio_start": "2019_04",
        "window_reuse_2025": "not_reused",
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for("refund_officer").post(reverse("refund:run_start"), data)
    run = ScreeningRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("refund:run_detail", args=[run.pk])
    assert run.application_date == dt.date(2026, 3, 12)
    assert run.options == {k: v for k, v in data.items() if k in OPTION_SPECS}
    assert run.created_by == personas["refund_officer"]
    assert run.status == ScreeningRun.Status.PENDING
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(verb="screening_start", object_id=str(run.pk)).count() == 1


def test_start_while_a_run_of_the_period_is_unfinished_opens_that_run(client_for, org):
    running = ScreeningRun.objects.create(
        application_period="2026-03", application_date=dt.date(2026, 3, 1), status=ScreeningRun.Status.RUNNING
    )
    data = {"application_period": "2026-03", **{n: s.default for n, s in OPTION_SPECS.items()}}
    response = client_for("admin").post(reverse("refund:run_start"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("refund:run_detail", args=[running.pk])
    assert "已有一个未完成的筛查" in html(response)
    assert ScreeningRun.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"application_period": ""}, "请填写申请退税所属期。"),
        ({"application_period": "2026-13"}, "“2026-13”不是有效的所属期。请按 YYYY-MM 填写所属期"),
        ({"application_period": "2018-01"}, "2018年01月不在留抵退税规则覆盖的范围内（2019年04月至2027年12月）。"),
        ({"application_period": "2026-03", "application_date": "2026-04-02"}, "不在申请退税所属期 2026年03月 内"),
        ({"application_period": "2026-03", "application_date": "2026-02-30"}, "请按 YYYY-MM-DD 填写日期。"),
        ({"application_period": "2026-03", "window_reuse_2025": "maybe"}, "“maybe”不是可选的取值。"),
    ],
)
def test_start_form_errors_are_in_chinese_and_nothing_starts(client_for, org, data, message):
    defaults = {n: s.default for n, s in OPTION_SPECS.items()}
    response = client_for("refund_officer").post(reverse("refund:run_start"), {**defaults, **data})
    assert response.status_code == 200
    assert message in html(response)
    assert 'class="collapse show' in html(response)  # the form stays open with its errors
    assert not ScreeningRun.objects.exists()


@pytest.mark.parametrize("username", ["officer_a", "supervisor", "risk_officer", "service_officer"])
def test_only_refund_officers_and_admins_may_start(client_for, org, username):
    response = client_for(username).post(reverse("refund:run_start"), {"application_period": "2026-03"})
    assert response.status_code == 403
    assert not ScreeningRun.objects.exists()


# --- run page: progress and totals -------------------------------------------------------------------------


def test_progress_is_polled_while_running_and_reloads_once_finished(client_for, org):
    run = ScreeningRun.objects.create(
        application_period="2026-03",
        application_date=dt.date(2026, 3, 1),
        status=ScreeningRun.Status.RUNNING,
        total_count=4,
        processed_count=1,
    )
    client = client_for("officer_a")
    url = reverse("refund:run_detail", args=[run.pk])
    page = html(client.get(url))
    assert 'hx-trigger="every 1s"' in page
    assert "可以离开本页" in page
    partial = client.get(url, **HTMX)
    assert "<html" not in html(partial)
    assert 'aria-valuenow="25"' in html(partial)
    assert "正在筛查第 1 / 4 户" in html(partial)
    assert "HX-Refresh" not in partial
    ScreeningRun.objects.filter(pk=run.pk).update(status=ScreeningRun.Status.SUCCEEDED, processed_count=4)
    done = client.get(url, **HTMX)
    assert done["HX-Refresh"] == "true"
    assert "every 1s" not in html(done)


def test_a_failed_run_shows_its_message(client_for, org):
    run = ScreeningRun.objects.create(
        application_period="2026-03",
        application_date=dt.date(2026, 3, 1),
        status=ScreeningRun.Status.FAILED,
        message="筛查失败：OperationalError，请联系信息中心。",
    )
    page = html(client_for("supervisor").get(reverse("refund:run_detail", args=[run.pk])))
    assert "筛查失败：OperationalError，请联系信息中心。" in page
    assert "tag-failed" in page


def _rows(group_rows) -> dict[str, tuple]:
    return {row.key: (row.figures.screened, row.figures.eligible, row.figures.amount) for row in group_rows}


def test_totals_by_regime_size_industry_and_branch(client_for, org, screening):
    # One more eligible taxpayer whose industry code was kept without its section letter (4710 = E4710).
    bare = sd.eligible_taxpayer(org["branch_b"], industry_code="4710", size="micro")
    run = screening["run"]
    ScreeningResult.objects.bulk_create(
        [result_from_decision(run=run, taxpayer_id=bare.pk, decision=sd.live_outcome(bare))]
    )
    totals = client_for("supervisor").get(reverse("refund:run_detail", args=[run.pk])).context["totals"]
    million = Decimal("1200000.00")
    assert (totals.overall.screened, totals.overall.eligible, totals.overall.errors) == (5, 2, 1)
    assert totals.overall.amount == 2 * million
    assert _rows(totals.by_regime) == {CLASS3: (4, 2, 2 * million), "": (1, 0, Decimal("0"))}
    assert _rows(totals.by_size) == {"small": (3, 1, million), "micro": (1, 1, million), "unknown": (1, 0, 0)}
    assert _rows(totals.by_industry) == {"E": (4, 2, 2 * million), "C": (1, 0, 0)}  # the error taxpayer: C3411
    assert _rows(totals.by_branch) == {"BRA": (2, 1, million), "BRB": (3, 1, million)}
    assert totals.by_regime[0].label == "其他纳税人留抵退税"
    assert totals.by_industry[0].label == "E 建筑业"
    assert totals.by_branch[0].query == "branch=BRA"  # ranked by amount, then eligible, then key


def test_totals_of_a_branch_officer_cover_only_its_branch(client_for, screening):
    response = client_for("officer_a").get(reverse("refund:run_detail", args=[screening["run"].pk]))
    totals = response.context["totals"]
    assert (totals.overall.screened, totals.overall.eligible) == (2, 1)
    assert _rows(totals.by_branch) == {"BRA": (2, 1, Decimal("1200000.00"))}
    page = html(response)
    assert "城西税务分局" not in page
    assert "以上为城东税务分局管辖的纳税人" in page
    b_totals = client_for("officer_b").get(reverse("refund:run_detail", args=[screening["run"].pk])).context["totals"]
    assert (b_totals.overall.screened, b_totals.overall.eligible, b_totals.overall.amount) == (2, 0, Decimal("0"))
    assert set(_rows(b_totals.by_branch)) == {"BRB"}


def test_totals_are_aggregates_whose_query_count_does_not_grow(client_for, org, screening):
    client = client_for("supervisor")
    url = reverse("refund:run_detail", args=[screening["run"].pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [TaxpayerFactory(branch=org["branch_b"], industry_code=code) for code in ("A0111", "F5123", "K7010") * 5]
    ScreeningResult.objects.bulk_create([ScreeningResult(run=screening["run"], taxpayer=t) for t in more])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.context["totals"].overall.screened == 19


# --- results -----------------------------------------------------------------------------------------------


def test_results_list_masks_identifiers_and_right_aligns_amounts(client_for, screening):
    response = client_for("refund_officer").get(results_url(screening["run"]))
    page = html(response)
    identifier = screening["eligible"].identifier
    assert f"{identifier[:4]}********{identifier[-5:]}" in page
    assert f">{identifier}<" not in page
    assert '<td class="num fw-semibold">1,200,000.00</td>' in page
    assert "共 4 条" in page
    assert names_on_page(response)[0] == "城东建筑有限公司"  # default: largest refundable amount first
    assert "纳税信用级别为A级或B级" in page  # the failed condition of the C-rated taxpayer
    assert "缺少申报表" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"eligible": "yes"}, {"eligible"}),
        ({"eligible": "no"}, {"error", "rated_c", "immediate"}),
        ({"regime": CLASS3}, {"eligible", "rated_c", "immediate"}),
        ({"size": "unknown"}, {"error"}),
        ({"size": "small"}, {"eligible", "rated_c", "immediate"}),
        ({"branch": "BRB"}, {"rated_c", "immediate"}),
        ({"industry": "E"}, {"eligible", "rated_c", "immediate"}),
        ({"industry": "C34"}, {"error"}),
        ({"failed": "credit_a_or_b"}, {"rated_c"}),
        ({"failed": "no_immediate_refund"}, {"immediate"}),
        ({"failed": "industry_share"}, set()),
        ({"error": "missing_return"}, {"error"}),
        ({"error": "any"}, {"error"}),
        ({"error": "none"}, {"eligible", "rated_c", "immediate"}),
        ({"min_amount": "1200000"}, {"eligible"}),
        ({"min_amount": "1200000.01"}, set()),
        ({"q": "城西"}, {"rated_c", "immediate"}),
        ({"eligible": "no", "branch": "BRA"}, {"error"}),
    ],
)
def test_results_filters(client_for, screening, params, expected):
    response = client_for("refund_officer").get(results_url(screening["run"], **params))
    assert set(names_on_page(response)) == {screening[key].name for key in expected}


def test_results_search_by_identifier_prefix(client_for, screening):
    identifier = screening["immediate"].identifier
    response = client_for("refund_officer").get(results_url(screening["run"], q=identifier.lower()))
    assert names_on_page(response) == [screening["immediate"].name]


def test_bad_filter_says_so_in_chinese_and_the_others_still_apply(client_for, screening):
    response = client_for("refund_officer").get(results_url(screening["run"], min_amount="很多", branch="BRB"))
    page = html(response)
    assert "可退税额不低于（元）：请填写金额（元），如 500000。（该条件未生效）" in page
    assert set(names_on_page(response)) == {screening["rated_c"].name, screening["immediate"].name}


def test_results_sort_by_name_and_by_amount(client_for, screening):
    client = client_for("refund_officer")
    by_name = names_on_page(client.get(results_url(screening["run"], sort="name")))
    assert by_name == sorted(by_name)
    ascending = client.get(results_url(screening["run"], sort="refundable_total"))
    assert names_on_page(ascending)[-1] == "城东建筑有限公司"
    assert 'aria-sort="ascending"' in html(ascending)


def test_branch_officer_never_sees_the_other_branch_rows(client_for, screening):
    response = client_for("officer_a").get(results_url(screening["run"]))
    assert set(names_on_page(response)) == {"城东建筑有限公司", "城东缺表有限公司"}
    assert "城西" not in html(response)
    forced = client_for("officer_a").get(results_url(screening["run"], branch="BRB"))
    assert set(names_on_page(forced)) == {"城东建筑有限公司", "城东缺表有限公司"}  # not a choice: ignored
    assert "城西" not in html(forced)


def test_results_pagination_shows_the_total(client_for, org, screening):
    extra = TaxpayerFactory.create_batch(55, branch=org["branch_a"])
    ScreeningResult.objects.bulk_create([ScreeningResult(run=screening["run"], taxpayer=t) for t in extra])
    response = client_for("refund_officer").get(results_url(screening["run"], page=2))
    assert "共 59 条，第 2 / 2 页" in html(response)
    assert len(response.context["page_obj"]) == 9


def test_results_list_query_count_does_not_grow_with_rows(client_for, org, screening):
    client = client_for("refund_officer")
    url = results_url(screening["run"])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    extra = TaxpayerFactory.create_batch(40, branch=org["branch_b"])
    ScreeningResult.objects.bulk_create([ScreeningResult(run=screening["run"], taxpayer=t) for t in extra])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["page_obj"]) == 44
    assert len(many.captured_queries) <= len(few.captured_queries)


# --- export ------------------------------------------------------------------------------------------------


def read_xlsx(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_export_is_exactly_what_the_filters_show_masked_and_audited(client_for, org, screening):
    extra = TaxpayerFactory.create_batch(55, branch=org["branch_b"])
    ScreeningResult.objects.bulk_create([ScreeningResult(run=screening["run"], taxpayer=t) for t in extra])
    run = screening["run"]
    response = client_for("supervisor").get(
        reverse("refund:run_export", args=[run.pk]), {"eligible": "no", "page": 2}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = read_xlsx(response)
    assert rows[0][:3] == ("纳税人识别号", "纳税人名称", "主管税务机关")
    names = {row[1] for row in rows[1:]}
    assert len(rows) - 1 == 58  # every page of the 3 + 55 ineligible rows, not only page 2
    assert "城东建筑有限公司" not in names
    c_row = next(row for row in rows if row[1] == "城西信用有限公司")
    identifier = screening["rated_c"].identifier
    assert c_row[0] == f"{identifier[:4]}********{identifier[-5:]}"
    assert c_row[6:9] == ("其他纳税人留抵退税", "不符合", "纳税信用级别为A级或B级")
    assert c_row[10] == 6000000  # 期末留抵税额, a number
    event = AuditEvent.objects.get(verb="export")
    assert event.object_type == "refund.screeningresult"
    assert "58 条" in event.summary
    assert "eligible=no" in event.summary
    assert "page" not in event.summary


def test_export_only_for_export_screening(client_for, screening):
    url = reverse("refund:run_export", args=[screening["run"].pk])
    assert client_for("risk_officer").get(url).status_code == 403
    assert client_for("officer_a").get(url).status_code == 403
    assert not AuditEvent.objects.filter(verb="export").exists()
    page = html(client_for("risk_officer").get(results_url(screening["run"])))
    assert "导出 xlsx" not in page


# --- explanation -------------------------------------------------------------------------------------------


def explain_url(run, taxpayer):
    return reverse("refund:run_explain", args=[run.pk, taxpayer.pk])


def test_explanation_shows_decision_conditions_citations_trace_alternatives_and_options(client_for, screening):
    response = client_for("officer_a").get(explain_url(screening["run"], screening["eligible"]))
    page = html(response)
    decision = response.context["decision"]
    assert response.context["explanation"].decision == sd.live_decision(screening["eligible"])
    assert page.index("测算结论") < page.index('id="conditions"') < page.index('id="trace"')
    assert '<span class="h4 m-0" id="refundable-total">1,200,000.00</span>' in page
    assert "其他纳税人留抵退税" in page
    assert page.count("bi-check-circle-fill text-success") == len(decision["conditions"]) == 8
    for condition in decision["conditions"]:
        assert condition["citation"].split("；")[0] in page
    for line in decision["trace"][:3]:
        assert line in page
    assert "制造业等4个行业留抵退税" in page  # an alternative tried
    for spec in OPTION_SPECS.values():
        assert spec.question in page
    assert 'id="stale-notice"' not in page


def _visible(page: str) -> str:
    """The text an officer reads: tags (and the data-code attributes scripts and tests use) left out."""
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize(("username", "who"), [("officer_a", "eligible"), ("refund_officer", "rated_c")])
def test_explanation_names_regimes_conditions_and_options_in_chinese_never_codes_or_commands(
    client_for, screening, username, who
):
    """Words on the screen: no regime code, condition code, option key or value, no shell command."""
    response = client_for(username).get(explain_url(screening["run"], screening[who]))
    page = html(response)
    visible = _visible(page)
    assert not re.search(r"CN-\d{4}-", page)
    for code in CONDITION_ORDER:
        assert code not in visible
    for spec in OPTION_SPECS.values():
        assert spec.name not in page
        assert not any(re.search(rf"(?<![A-Za-z0-9_]){value}(?![A-Za-z0-9_])", page) for value in spec.choices)
        assert f"规则选项“{spec.title}”：" in visible  # each trace line names the option by its title
    assert "同时试算“" in visible  # the alternatives by their titles
    assert "manage.py" not in page and "taxpayer_case" not in page and "复核命令" not in page
    assert not re.search(r"\d{4,}\.\d{2}", visible)  # every amount with separators
    assert not re.search(r"\d元", visible)  # and a space before 元


def test_explanation_of_a_failed_condition_marks_it(client_for, screening):
    page = html(client_for("refund_officer").get(explain_url(screening["run"], screening["rated_c"])))
    assert '<tr data-code="credit_a_or_b" data-passed="false" class="table-warning">' in page
    assert "纳税信用级别为C级，须为A级或B级" in page
    assert '<span class="tag tag-attention fs-6" id="decision-outcome">不符合条件</span>' in page


def test_explanation_of_an_error_says_what_to_do_next(client_for, screening):
    page = html(client_for("refund_officer").get(explain_url(screening["run"], screening["error"])))
    assert "无法判断" in page
    assert "缺少申报表" in page
    assert "请在“数据导入”中导入该期申报表" in page
    assert "2026-02" in page  # the rules' message names the missing tax period


def test_explanation_warns_when_the_data_changed_since_the_run(client_for, screening):
    taxpayer = screening["eligible"]
    rate(taxpayer, "C", on=dt.date(2026, 3, 1), year=2025, basis="re_evaluated")
    response = client_for("refund_officer").get(explain_url(screening["run"], taxpayer))
    page = html(response)
    assert 'id="stale-notice"' in page
    changed = {d.field: (d.stored, d.live) for d in response.context["differences"]}
    assert changed["eligible"] == (True, False)
    assert changed["refundable_total"] == (Decimal("1200000.00"), Decimal("0.00"))
    assert changed["failed_mask"] == ([], ["credit_a_or_b"])
    assert "纳税信用级别为C级" in page  # the page shows the live decision


def test_explanation_uses_the_run_date_and_options(client_for, org):
    taxpayer = sd.eligible_taxpayer(org["branch_a"])
    options = {"class3_ratio_start": "2019_04"}
    run = sd.finished_run([taxpayer], date=dt.date(2026, 3, 20), options=options)
    response = client_for("refund_officer").get(explain_url(run, taxpayer))
    decision = response.context["decision"]
    assert decision["options"]["class3_ratio_start"] == "2019_04"
    assert "2023-03-20至2026-03-20" in html(response)
    assert "非默认" in html(response)
    # the option taken, in the trace, by its title and meaning (no command, no key)
    assert "规则选项“其他纳税人进项构成比例的计算期间”：与第一项、第二项相同，自2019年4月起" in html(response)
    assert "class3_ratio_start" not in html(response) and "manage.py" not in html(response)


def test_taxpayer_page_links_to_its_explanation_which_takes_the_latest_run(client_for, screening):
    taxpayer = screening["eligible"]
    detail = html(client_for("officer_a").get(reverse("taxpayers:detail", args=[taxpayer.pk])))
    url = reverse("refund:taxpayer_explain", args=[taxpayer.pk])
    assert f'href="{url}"' in detail
    assert url not in html(client_for("credit_officer").get(reverse("taxpayers:detail", args=[taxpayer.pk])))
    response = client_for("officer_a").get(url, {"period": "2026-03"})
    assert response.context["run"] == screening["run"]
    assert response.context["explanation"].application_date == sd.DATE
    own = client_for("officer_a").get(url, {"period": "2026-03", "date": "2026-03-02"})
    assert own.context["run"] is None
    assert own.context["explanation"].application_date == dt.date(2026, 3, 2)
    default = client_for("officer_a").get(url)
    assert default.context["explanation"].application_period == Period.of(timezone.localdate())


def test_bad_explanation_parameters_fall_back_with_a_notice(client_for, screening):
    url = reverse("refund:taxpayer_explain", args=[screening["eligible"].pk])
    page = html(client_for("officer_a").get(url, {"period": "2026-3"}))
    assert "“2026-3”不是有效的所属期" in page
    assert "已改用默认值" in page


@pytest.mark.parametrize("key", ["rated_c", "immediate"])
def test_officer_a_gets_404_for_a_branch_b_taxpayer(client_for, screening, key):
    client = client_for("officer_a")
    taxpayer = screening[key]
    assert client.get(explain_url(screening["run"], taxpayer)).status_code == 404
    assert client.get(reverse("refund:taxpayer_explain", args=[taxpayer.pk])).status_code == 404
    what_if = reverse("refund:what_if", args=[taxpayer.pk])
    assert client.get(what_if, {"credit_level": "A"}, **HTMX).status_code == 404


# --- what-if -----------------------------------------------------------------------------------------------


def what_if(client, run, taxpayer, **params):
    return client.get(reverse("refund:what_if", args=[taxpayer.pk]), {"run": run.pk, **params}, **HTMX)


def _compared(response) -> dict[str, tuple[str, str]]:
    return {row["key"]: (row["actual"], row["hypothetical"]) for row in response.context["comparison"]}


def test_what_if_another_credit_level_beside_the_actual(client_for, screening):
    response = what_if(client_for("refund_officer"), screening["run"], screening["eligible"], credit_level="C")
    assert "<html" not in html(response)
    compared = _compared(response)
    assert compared["outcome"] == ("符合条件", "不符合条件")
    assert compared["refundable_total"] == ("1,200,000.00", "0.00")
    assert compared["failed"] == ("无", "纳税信用级别为A级或B级")
    assert "纳税信用级别为C级" in html(response)


def test_what_if_repaid_immediate_refund_makes_it_eligible(client_for, screening):
    response = what_if(client_for("refund_officer"), screening["run"], screening["immediate"], immediate_repaid="on")
    compared = _compared(response)
    assert compared["outcome"] == ("不符合条件", "符合条件")
    assert compared["refundable_total"] == ("0.00", "1,200,000.00")
    assert "即征即退、先征后返（退）税款已一次性全部缴回" in html(response)


def test_what_if_repaid_without_immediate_refund_says_it_changes_nothing(client_for, screening):
    response = what_if(client_for("refund_officer"), screening["run"], screening["eligible"], immediate_repaid="on")
    assert "缴回与否不影响结果" in html(response)
    assert all(not row["changed"] for row in response.context["comparison"])


def test_what_if_another_period_without_its_return_explains_the_error(client_for, screening):
    response = what_if(client_for("refund_officer"), screening["run"], screening["eligible"], what_if_period="2026-04")
    page = html(response)
    assert response.context["what_if"].application_date == dt.date(2026, 4, 1)
    assert _compared(response)["outcome"] == ("符合条件", "无法判断（缺少申报表）")
    assert "2026-03" in page
    assert "请在“数据导入”中导入该期申报表" in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "请至少改变一项假设条件"),
        ({"what_if_period": "2026/04"}, "“2026/04”不是有效的所属期"),
        ({"what_if_period": "2030-01"}, "不在留抵退税规则覆盖的范围内"),
        ({"credit_level": "E"}, "“E”不是有效的信用级别。"),
    ],
)
def test_what_if_errors_are_in_chinese(client_for, screening, params, message):
    response = what_if(client_for("refund_officer"), screening["run"], screening["eligible"], **params)
    assert response.status_code == 200
    assert message in html(response)
    assert response.context["what_if"] is None


def test_what_if_without_htmx_renders_the_whole_page(client_for, screening):
    url = reverse("refund:what_if", args=[screening["eligible"].pk])
    response = client_for("refund_officer").get(url, {"run": screening["run"].pk, "credit_level": "B"})
    page = html(response)
    assert "<html" in page
    assert 'id="what-if-table"' in page
    assert 'id="conditions"' in page


# --- a real screening ----------------------------------------------------------------------------------------


def test_a_real_screening_feeds_the_pages_and_agrees_with_the_live_rules(client_for, org, personas):
    """``screening_run_execute`` on factory data: the stored rows equal the explanation's live decision."""
    eligible = sd.eligible_taxpayer(org["branch_a"], name="城东建筑有限公司")
    rated_c = sd.ineligible_taxpayer(org["branch_b"], name="城西信用有限公司")
    missing = sd.error_taxpayer(org["branch_b"], name="城西缺表有限公司")
    run = ScreeningRun.objects.create(application_period=sd.PERIOD, application_date=sd.DATE)
    screening_run_execute(run_id=run.pk)
    client = client_for("refund_officer")
    totals = client.get(reverse("refund:run_detail", args=[run.pk])).context["totals"]
    assert (totals.overall.screened, totals.overall.eligible, totals.overall.errors) == (3, 1, 1)
    listed = client.get(results_url(run, failed="credit_a_or_b"))
    assert names_on_page(listed) == [rated_c.name]
    for taxpayer in (eligible, rated_c, missing):
        response = client.get(explain_url(run, taxpayer))
        assert response.context["stored"] is not None
        assert response.context["differences"] == [], taxpayer.name
