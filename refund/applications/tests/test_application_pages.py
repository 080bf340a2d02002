"""留抵退税申请 pages: the queue's filters, sort, pagination, scoping, bounded queries and export; an application's
page (amounts, the rules' explanation, risk hits, history, coaching, masked identifier); entry and import forms."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from core.periods import Period
from credit.tests.factories import TaxpayerFactory
from refund.models import ApplicationRiskHit, ApplicationTransition, CoachingRecord, RefundApplication
from refund.rules import case_to_json
from refund.screening.case_builder import taxpayer_case
from refund.screening.decisions import decide
from refund.tests.application_rows import application
from refund.tests.candidates import eligible_taxpayer

pytestmark = pytest.mark.django_db
QUEUE = reverse("refund:application_queue")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


def _docs(response) -> list[str]:
    return [a.document_number for a in response.context["page_obj"]]


@pytest.fixture
def queue(org, personas):
    """Branch A: an old received one (overdue), a reviewing one assigned to the refund officer, a paid one;
    branch B: a returned one with a risk hit, a rejected one."""
    a, b = org["branch_a"], org["branch_b"]
    return {
        "old": application(
            TaxpayerFactory(branch=a, name="城东老旧机械有限公司"),
            document_number="A-OLD",
            received_on=dt.date(2026, 2, 2),
            claimed_amount=Decimal("50000.00"),
        ),
        "reviewing": application(
            branch=a,
            document_number="A-REV",
            state="reviewing",
            claimed_amount=Decimal("2500000.00"),
            received_on=dt.date(2026, 3, 10),
            assigned_to=personas["refund_officer"],
            regime="CN-2025-7-class3",
        ),
        "paid": application(branch=a, document_number="A-PAID", state="paid", received_on=dt.date(2026, 1, 5)),
        "returned": application(
            TaxpayerFactory(branch=b, name="城西新材料有限公司"),
            document_number="B-RET",
            state="returned",
            received_on=dt.date(2026, 3, 9),
            claimed_amount=Decimal("800000.00"),
            risk_status="hit",
            kind="stock",
            application_period="2026-02",
        ),
        "rejected": application(branch=b, document_number="B-REJ", state="rejected", received_on=dt.date(2026, 3, 3)),
    }


# --- the queue --------------------------------------------------------------------------------------------------


def test_queue_shows_open_applications_oldest_first_by_default(client_for, queue):
    response = client_for("refund_officer").get(QUEUE)
    assert response.status_code == 200
    assert _docs(response) == ["A-OLD", "B-RET", "A-REV"]
    html = response.content.decode()
    assert "共 3 条" in html
    assert "2,500,000.00" in html  # thousands separators, right-aligned column
    assert '<span class="tag tag-failed" data-state="returned">已回退</span>' in html
    assert '<span class="tag tag-attention" data-risk="hit">有疑点</span>' in html


def test_queue_state_filter(client_for, queue):
    client = client_for("refund_officer")
    assert _docs(client.get(QUEUE, {"state": "all"})) == ["A-PAID", "A-OLD", "B-REJ", "B-RET", "A-REV"]
    assert _docs(client.get(QUEUE, {"state": "paid"})) == ["A-PAID"]
    assert _docs(client.get(QUEUE, {"state": "reviewing"})) == ["A-REV"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"branch": "BRB"}, ["B-RET"]),
        ({"amount_min": "100000", "amount_max": "1000000"}, ["B-RET"]),
        ({"amount_min": "1000000"}, ["A-REV"]),
        ({"overdue": "on"}, ["A-OLD"]),
        ({"assignee": "me"}, ["A-REV"]),
        ({"assignee": "none"}, ["A-OLD", "B-RET"]),
        ({"application_period": "2026-02"}, ["B-RET"]),
        ({"q": "老旧"}, ["A-OLD"]),
        ({"q": "A-REV"}, ["A-REV"]),
        ({"kind": "stock"}, ["B-RET"]),
        ({"risk_status": "hit"}, ["B-RET"]),
        ({"regime": "CN-2025-7-class3"}, ["A-REV"]),
        ({"state": "all", "branch": "BRA", "sort": "-age"}, ["A-REV", "A-OLD", "A-PAID"]),
    ],
)
def test_queue_filters(client_for, queue, params, expected):
    assert _docs(client_for("refund_officer").get(QUEUE, params)) == expected


def test_queue_search_by_identifier_prefix(client_for, queue):
    identifier = queue["returned"].taxpayer.identifier
    assert _docs(client_for("refund_officer").get(QUEUE, {"q": identifier[:17].lower()})) == ["B-RET"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["A-OLD", "B-RET", "A-REV"]),
        ("-amount", ["A-REV", "B-RET", "A-OLD"]),
        ("due", ["A-OLD", "B-RET", "A-REV"]),
        ("-due", ["A-REV", "B-RET", "A-OLD"]),
        ("-age", ["A-REV", "B-RET", "A-OLD"]),
    ],
)
def test_queue_sort(client_for, queue, sort, expected):
    response = client_for("refund_officer").get(QUEUE, {"sort": sort})
    assert _docs(response) == expected
    assert response.context["columns"][sort.lstrip("-")].direction == ("desc" if sort.startswith("-") else "asc")


def test_queue_overdue_flag_and_working_days(client_for, queue):
    response = client_for("refund_officer").get(QUEUE)
    rows = {a.document_number: a for a in response.context["page_obj"]}
    # 2026-02-02 → 2026-03-20: 34 weekdays, less the Spring Festival's 6 (02-16…20, 02-23), plus 2 make-up Saturdays.
    assert rows["A-OLD"].is_overdue and rows["A-OLD"].working_days == 30
    assert not rows["A-REV"].is_overdue and rows["A-REV"].working_days == 8
    assert "超期" in response.content.decode()


def test_my_work_lists_only_my_applications(client_for, queue):
    response = client_for("refund_officer").get(reverse("refund:my_applications"))
    assert response.status_code == 200
    assert _docs(response) == ["A-REV"]
    assert "我的待办" in response.content.decode()


def test_queue_pagination_with_total_count(client_for, org, personas):
    for i in range(55):
        application(branch=org["branch_a"], document_number=f"P{i:03d}", received_on=dt.date(2026, 3, 2))
    client = client_for("refund_officer")
    first = client.get(QUEUE)
    assert len(first.context["page_obj"]) == 50
    assert "共 55 条，第 1 / 2 页" in first.content.decode()
    second = client.get(QUEUE, {"page": 2, "branch": "BRA"})
    assert _docs(second) == [f"P{i:03d}" for i in range(50, 55)]
    assert "branch=BRA&amp;page=1" in second.content.decode() or "branch=BRA&page=1" in second.content.decode()


def test_queue_query_count_does_not_grow_with_rows(client_for, org, personas, django_assert_max_num_queries):
    client = client_for("refund_officer")
    officers = [personas["refund_officer"], personas["officer_a"], personas["officer_b"]]

    def add(n):
        for i in range(n):
            application(branch=org["branch_a" if i % 2 else "branch_b"], assigned_to=officers[i % 3])

    add(10)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(QUEUE).context["page_obj"]) == 10
    add(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE)
    assert len(response.context["page_obj"]) == 50


def test_branch_officer_sees_only_its_branch(client_for, queue):
    response = client_for("officer_b").get(QUEUE, {"state": "all"})
    assert _docs(response) == ["B-REJ", "B-RET"]
    assert [b.code for b in response.context["filterset"].filters["branch"].queryset] == ["BRB"]
    assert client_for("officer_b").get(reverse("refund:application_detail", args=[queue["old"].pk])).status_code == 404
    assert client_for("officer_a").get(reverse("refund:application_detail", args=[queue["old"].pk])).status_code == 200


def test_queue_empty_state_says_why(client_for, org, personas):
    html = client_for("officer_a").get(QUEUE).content.decode()
    assert "城东税务分局暂无未办结的留抵退税申请" in html
    html = client_for("officer_a").get(QUEUE, {"q": "不存在"}).content.decode()
    assert "没有符合筛选条件的申请" in html


def test_export_is_exactly_what_the_filters_show_masked_and_audited(client_for, queue):
    response = client_for("refund_officer").get(
        reverse("refund:application_queue_export"), {"state": "all", "branch": "BRA"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("申请文书号", "纳税人识别号", "纳税人名称")
    assert [r[0] for r in rows[1:]] == ["A-PAID", "A-OLD", "A-REV"]
    identifier = queue["old"].taxpayer.identifier
    assert rows[2][1] == f"{identifier[:4]}********{identifier[-5:]}"
    event = AuditEvent.objects.get(verb="export")
    assert event.object_type == "refund.refundapplication"
    assert "3 条" in event.summary and "branch=BRA" in event.summary


def test_export_defaults_to_open_states(client_for, queue):
    response = client_for("supervisor").get(reverse("refund:application_queue_export"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert [r[0] for r in list(sheet.iter_rows(values_only=True))[1:]] == ["A-OLD", "B-RET", "A-REV"]


def test_batch_bar_matches_the_role(client_for, queue):
    officer = client_for("refund_officer").get(QUEUE).content.decode()
    assert "批量审批" in officer and 'value="assign"' in officer and "导出 xlsx（3 件）" in officer
    branch = client_for("officer_a").get(QUEUE).content.decode()
    assert "批量审批" not in branch and 'value="assign"' in branch and "导出 xlsx" not in branch
    risk = client_for("risk_officer").get(QUEUE).content.decode()
    assert "批量审批" not in risk and 'value="assign"' not in risk


def test_batch_confirmation_says_how_many_and_what_will_happen(client_for, queue):
    ids = [queue["reviewing"].pk, queue["old"].pk]
    response = client_for("refund_officer").post(
        reverse("refund:application_batch"), {"action": "approve", "ids": ids, "next": QUEUE + "?state=open"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "确认批量审批：已选 2 件，可审批 1 件" in html
    assert '其中 <strong id="doable-count">1</strong> 件可以审批' in html
    assert "<li>1 件当前为“已受理”，只有“审核中”的申请可以审批</li>" in html
    assert "确认审批 1 件" in html
    assert RefundApplication.objects.get(pk=queue["reviewing"].pk).state == "reviewing"  # nothing done yet


def test_batch_with_nothing_selected_says_what_to_do(client_for, queue):
    response = client_for("refund_officer").post(reverse("refund:application_batch"), {"action": "approve"})
    assert response.status_code == 400
    assert "没有选择任何申请" in response.content.decode()


def test_batch_assign_without_an_officer_says_so_and_changes_nothing(client_for, queue):
    before = RefundApplication.objects.get(pk=queue["reviewing"].pk).assigned_to_id
    response = client_for("refund_officer").post(
        reverse("refund:application_batch"),
        {"action": "assign", "officer": "", "ids": [queue["reviewing"].pk], "confirm": "1"},
    )
    assert response.status_code == 400  # the confirmation again, the officer to choose, the error beside it
    html = response.content.decode()
    assert '<div class="text-danger small" id="id_officer_error">请选择要分派的经办人。</div>' in html
    assert 'aria-invalid="true"' in html
    assert f'<input type="hidden" name="ids" value="{queue["reviewing"].pk}">' in html  # the selection is kept
    assert RefundApplication.objects.get(pk=queue["reviewing"].pk).assigned_to_id == before


def test_batch_drops_applications_outside_the_scope(client_for, queue):
    response = client_for("officer_a").post(
        reverse("refund:application_batch"),
        {"action": "assign", "officer": queue["reviewing"].assigned_to_id, "ids": [queue["returned"].pk]},
    )
    assert response.status_code == 404


# --- one application -------------------------------------------------------------------------------------------


@pytest.fixture
def snapshotted(org, personas):
    """An eligible taxpayer's application with the rules' decision snapshotted, a risk hit, history, coaching."""
    taxpayer = eligible_taxpayer(org["branch_a"], name="城东快照制造有限公司")
    case = taxpayer_case(
        taxpayer_id=taxpayer.pk, application_period=Period.parse("2026-03"), application_date=dt.date(2026, 3, 18)
    )
    decision = decide(case)
    assert decision["eligible"], decision
    app = application(
        taxpayer,
        state="investigating",
        received_on=dt.date(2026, 3, 18),
        regime=decision["regime"],
        claimed_amount=Decimal("1234567.89"),
        computed_amount=Decimal(decision["refundable_total"]),
        computed_incremental=Decimal(decision["refundable_incremental"]),
        computed_stock=Decimal(decision["refundable_stock"]),
        result_snapshot=decision,
        inputs_snapshot=case_to_json(case),
        risk_status="hit",
    )
    ApplicationRiskHit.objects.create(
        application=app,
        stage="arrival",
        code="rating",
        title="申请时纳税信用级别不是A或B级",
        evidence={
            "level_at_submission": "C",
            "facts": [["申请时纳税信用级别", "C级"], ["要求", "纳税信用级别为A或B级"]],
        },
    )
    ApplicationTransition.objects.create(
        application=app,
        from_state="received",
        to_state="investigating",
        actor=personas["officer_a"],
        reason="核实进项发票",
    )
    CoachingRecord.objects.create(
        taxpayer=taxpayer,
        application=app,
        topic="input_ratio",
        notes="讲解进项构成比例",
        coached_on=dt.date(2026, 3, 19),
        officer=personas["officer_a"],
    )
    return app


def test_application_page_puts_amounts_first_then_the_rules(client_for, snapshotted):
    response = client_for("officer_a").get(reverse("refund:application_detail", args=[snapshotted.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('id="amounts"') < html.index('id="explanation"') < html.index('id="risk-hits"')
    assert html.index('id="risk-hits"') < html.index('id="history"') < html.index('id="coaching"')
    assert "1,234,567.89" in html
    assert response.context["decision_source"] == "snapshot"
    assert 'id="conditions"' in html and "纳税信用级别为A级或B级" in html  # the shared conditions partial
    assert "申请时纳税信用级别不是A或B级" in html
    assert "申请时纳税信用级别</span>：C级" in html and "level_at_submission" not in html  # the check's facts
    assert "已受理 → 调查核实" in html and "核实进项发票" in html
    assert "讲解进项构成比例" in html and "进项构成比例" in html
    identifier = snapshotted.taxpayer.identifier
    assert identifier not in re.sub(r'(href|action|hx-post)="[^"]*"', "", html)  # shown masked until the audited reveal
    assert f"{identifier[:4]}********{identifier[-5:]}" in html
    assert "显示完整信息" in html


def test_application_page_explains_live_without_a_snapshot(client_for, org, personas):
    taxpayer = eligible_taxpayer(org["branch_a"])
    app = application(taxpayer, received_on=dt.date(2026, 3, 18))
    response = client_for("refund_officer").get(reverse("refund:application_detail", args=[app.pk]))
    assert response.context["decision_source"] == "live"
    assert response.context["decision"]["eligible"] is True


def test_history_and_risk_hits_name_checks_regimes_and_amounts_in_chinese(client_for, snapshotted):
    """Words on the screen: a risk check code, a regime code or an evidence key never reaches the page."""
    regime = snapshotted.regime
    ApplicationTransition.objects.create(
        application=snapshotted,
        from_state="investigating",
        to_state="returned",
        reason="受理扫描发现疑点",
        evidence={"risk_hit": "recomputation_mismatch", "claimed": "1234567.89", "regime": regime, "seed": 7},
    )
    ApplicationTransition.objects.create(
        application=snapshotted,
        from_state="reviewing",
        to_state="returned",
        reason="审批前复核发现疑点",
        evidence={
            "stage": "approval",
            "hits": [
                {"code": "credit_level", "title": "", "evidence": {"facts": [["当前纳税信用级别", "C级"]]}},
                {"code": "upstream_invoice", "title": "进项发票涉及异常凭证", "evidence": {"note": "上游异常"}},
            ],
        },
    )
    ApplicationRiskHit.objects.create(
        application=snapshotted, stage="approval", code="credit_level", title="", evidence={}
    )
    page = client_for("officer_a").get(reverse("refund:application_detail", args=[snapshotted.pk])).content.decode()
    visible = re.sub(r"<[^>]+>", " ", page)
    for code in ("recomputation_mismatch", "credit_level", "upstream_invoice", "risk_hit", "seed", regime):
        assert code not in visible, code
    assert "疑点：重算金额不一致" in visible
    assert "申请退税额（元）：1,234,567.89" in visible
    assert "适用政策：其他纳税人留抵退税" in visible
    assert "疑点：纳税信用级别不符" in visible and "当前纳税信用级别：C级" in visible
    assert "疑点：进项发票涉及异常凭证" in visible and "核实要点：上游异常" in visible
    assert '">纳税信用级别不符</span>' in page  # the finding's title from the check registry


def test_reveal_on_the_application_page_is_audited_and_only_for_allowed_roles(client_for, snapshotted):
    identifier = snapshotted.taxpayer.identifier
    risk = client_for("risk_officer").get(reverse("refund:application_detail", args=[snapshotted.pk]))
    assert "您的岗位无权查看完整信息" in risk.content.decode()
    response = client_for("officer_a").post(
        reverse("taxpayers:reveal_contacts", args=[snapshotted.taxpayer.pk]), HTTP_HX_REQUEST="true"
    )
    assert identifier in response.content.decode()
    assert AuditEvent.objects.filter(verb="view_contacts", actor__username="officer_a").exists()


def test_disabled_actions_explain_their_precondition(client_for, snapshotted):
    response = client_for("officer_a").get(reverse("refund:application_detail", args=[snapshotted.pk]))
    panels = {p["action"].name: p for p in response.context["actions"]}
    assert panels["confirm"]["enabled"]  # investigating → reviewing
    assert not panels["investigate"]["enabled"]
    assert panels["investigate"]["why_disabled"] == "仅限“已受理、已回退”的申请"
    assert not panels["approve"]["enabled"]
    assert panels["approve"]["why_disabled"] == "仅限“审核中”的申请"
    assert not panels["reject"]["enabled"] and panels["reject"]["why_disabled"] == "您的岗位无权办理此项"
    html = response.content.decode()
    assert "仅限“审核中”的申请" in html


def test_invalid_action_input_is_shown_beside_the_field(client_for, snapshotted):
    url = reverse("refund:application_action", args=[snapshotted.pk, "return"])
    response = client_for("officer_a").post(url, {"reason": ""})
    assert response.status_code == 400
    assert "请填写原因" in response.content.decode()
    url = reverse("refund:application_action", args=[snapshotted.pk, "confirm"])
    response = client_for("officer_a").post(url, {"amount": "1000.00"})
    assert response.status_code == 400
    assert "更正计算结果时必须填写更正原因" in response.content.decode()
    assert RefundApplication.objects.get(pk=snapshotted.pk).state == "investigating"


def test_actions_need_their_permission(client_for, snapshotted):
    url = reverse("refund:application_action", args=[snapshotted.pk, "reject"])
    assert client_for("officer_a").post(url, {"reason": "不符合"}).status_code == 403
    assert client_for("officer_b").post(url, {"reason": "不符合"}).status_code == 404
    assert (
        client_for("officer_a").post(reverse("refund:application_action", args=[snapshotted.pk, "unknown"])).status_code
        == 404
    )


def test_invalid_coaching_is_shown_beside_the_field(client_for, snapshotted):
    url = reverse("refund:application_coaching_add", args=[snapshotted.pk])
    response = client_for("officer_a").post(url, {"topic": "nonsense", "coached_on": "2026-03-19"})
    assert response.status_code == 400
    assert "辅导主题" in response.content.decode()
    assert CoachingRecord.objects.count() == 1


# --- entry and import forms -------------------------------------------------------------------------------------


def test_entry_form_errors_are_next_to_the_fields(client_for, taxpayer_b):
    url = reverse("refund:application_new")
    assert client_for("refund_officer").get(url).status_code == 200
    response = client_for("refund_officer").post(
        url,
        {
            "identifier": "91330106MA0000000X",
            "application_period": "2026-13",
            "kind": "incremental",
            "claimed_amount": "-1",
            "received_on": "2026-03-21",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "不是有效的所属期" in html
    assert "金额不能为负数" in html
    assert "受理日期不能晚于今天" in html


def test_entry_form_refuses_a_taxpayer_outside_the_scope_or_unknown(client_for, personas, taxpayer_b):
    response = client_for("refund_officer").post(
        reverse("refund:application_new"),
        {
            "identifier": "91330106MA0000000X",
            "application_period": "2026-03",
            "kind": "incremental",
            "claimed_amount": "1000",
            "received_on": "2026-03-20",
        },
    )
    assert response.status_code == 400
    assert "未找到该纳税人" in response.content.decode()
    assert not RefundApplication.objects.exists()


def test_import_page_refuses_other_files(client_for, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("refund:application_import")
    assert client_for("refund_officer").get(url).status_code == 200
    response = client_for("refund_officer").post(url, {"file": SimpleUploadedFile("申请.pdf", b"x")})
    assert response.status_code == 400
    assert "请上传 .xlsx 文件" in response.content.decode()


def test_batch_can_take_everything_the_filters_show(client_for, org, personas):
    for i in range(52):
        application(branch=org["branch_a"], document_number=f"F{i:03d}", risk_status="clear" if i % 2 else "hit")
    client = client_for("refund_officer")
    assert "选择全部 52 件筛选结果" in client.get(QUEUE).content.decode()
    response = client.post(
        reverse("refund:application_batch"),
        {"action": "approve", "scope": "filtered", "filters": "risk_status=clear", "ids": []},
    )
    assert response.status_code == 200
    assert [a.document_number for a in response.context["applications"]] == [f"F{i:03d}" for i in range(1, 52, 2)]
    assert "确认批量审批：已选 26 件，可审批 0 件" in response.content.decode()
