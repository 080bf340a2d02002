"""The risk tasks' pages: the list and its filters in the URL, branch scoping by list and by URL, the export, the
higher bureau's import (all or nothing), the push-down, a task's steps, the 工作台 block and the application
panel's button."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from risk.models import RiskTask, RiskTaskImport, TaskSource, TaskStage
from risk.tasks import services
from risk.tests.builders import application

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DUE = TODAY + dt.timedelta(days=10)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


def pushed(personas, taxpayer, title="发票异常", **fields) -> RiskTask:
    return services.risk_task_create(
        actor=personas["risk_officer"],
        taxpayer=taxpayer,
        source=fields.pop("source", TaskSource.MANUAL),
        title=title,
        branch=taxpayer.branch,
        due_on=fields.pop("due_on", DUE),
        **fields,
    )


def xlsx(rows, name="上级下发风险任务.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["纳税人识别号", "任务名称", "任务说明", "应对期限", "来源文号"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def test_a_branch_officer_sees_and_acts_on_its_own_branchs_tasks_only(client_for, personas, taxpayer_a, taxpayer_b):
    mine, theirs = pushed(personas, taxpayer_a, "城东任务"), pushed(personas, taxpayer_b, "城西任务")
    services.risk_task_respond(actor=personas["officer_b"], task=theirs, findings="城西已核查")
    client = client_for("officer_a")
    page = client.get(reverse("risk:tasks")).content.decode()
    assert "城东任务" in page and "城西任务" not in page
    assert client.get(reverse("risk:task", args=[theirs.pk])).status_code == 404
    refused = client.post(reverse("risk:task_act", args=[theirs.pk, "respond"]), {"findings": "越权"})
    assert refused.status_code == 404
    assert client.post(reverse("risk:task_act", args=[theirs.pk, "submit"])).status_code == 404
    upload = client.post(reverse("risk:task_file_upload", args=[theirs.pk]), {"file": SimpleUploadedFile("a.pdf", PDF)})
    assert upload.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.stage, theirs.findings) == (TaskStage.RESPONDING, "城西已核查")
    # and its own: the page offers the response, the step works
    assert "保存核查情况" in client.get(reverse("risk:task", args=[mine.pk])).content.decode()
    response = client.post(reverse("risk:task_act", args=[mine.pk, "respond"]), {"findings": "已实地核查"})
    assert response.status_code == 302
    assert RiskTask.objects.get(pk=mine.pk).stage == TaskStage.RESPONDING


def test_a_branch_officer_cannot_download_another_branchs_evidence(
    client_for, personas, taxpayer_b, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    task = pushed(personas, taxpayer_b)
    stored = services.risk_task_file_add(
        actor=personas["officer_b"], task=task, uploaded_file=SimpleUploadedFile("询问笔录.pdf", PDF)
    )
    url = reverse("risk:task_file_download", args=[task.pk, stored.pk])
    assert client_for("officer_a").get(url).status_code == 404
    response = client_for("officer_b").get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert "filename*=UTF-8''%E8%AF%A2" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(verb="risk.task_file_download", actor=personas["officer_b"]).count() == 1


def test_the_list_filters_are_kept_in_the_url(client_for, personas, taxpayer_a, taxpayer_b):
    late = pushed(personas, taxpayer_a, "逾期任务")
    RiskTask.objects.filter(pk=late.pk).update(due_on=TODAY - dt.timedelta(days=1))
    services.risk_task_create(
        actor=personas["risk_officer"], taxpayer=taxpayer_b, source=TaskSource.UPPER, title="上级任务"
    )
    client = client_for("risk_officer")
    overdue = client.get(reverse("risk:tasks"), {"stage": "open", "overdue": "1"}).content.decode()
    assert "逾期任务" in overdue and "上级任务" not in overdue and "已超期" in overdue
    upper = client.get(reverse("risk:tasks"), {"source": "upper"})
    assert [t.title for t in upper.context["page_obj"]] == ["上级任务"]
    assert 'value="upper" selected' in upper.content.decode()
    by_branch = client.get(reverse("risk:tasks"), {"branch": taxpayer_a.branch_id}).context["page_obj"]
    assert [t.title for t in by_branch] == ["逾期任务"]
    assert "stage=open&amp;overdue=1" in overdue  # the export link carries the filters


def test_the_export_is_what_the_filters_show_and_is_audited(client_for, personas, taxpayer_a, taxpayer_b):
    pushed(personas, taxpayer_a, "城东任务")
    services.risk_task_create(actor=personas["risk_officer"], taxpayer=taxpayer_b, source="upper", title="上级任务")
    response = client_for("risk_officer").get(reverse("risk:task_export"), {"source": "upper"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("任务编号", "纳税人识别号", "纳税人名称") and [r[6] for r in rows[1:]] == ["上级任务"]
    event = AuditEvent.objects.get(verb="export", object_type="risk.risktask")
    assert "source=upper" in event.summary and "（1 条）" in event.summary
    assert client_for("officer_a").get(reverse("risk:task_export")).status_code == 403


def test_the_import_is_all_or_nothing_with_row_errors_in_chinese(client_for, personas, taxpayer_a, taxpayer_b):
    client = client_for("risk_officer")
    url = reverse("risk:task_import")
    bad = xlsx(
        [
            [taxpayer_a.identifier, "进项异常", "核查进项", DUE, "省局风〔2026〕8号"],
            ["91440300000000000X", "不存在的纳税人", "", DUE, "省局风〔2026〕8号"],
            [taxpayer_b.identifier, "", "", "2020-01-01", "省局风〔2026〕8号"],
        ]
    )
    response = client.post(url, {"source_name": "市税务局风险管理局", "file": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert "未导入任何任务" in page and "必填项不能为空" in page and "应对期限早于今天" in page
    assert RiskTask.objects.count() == 0 and RiskTaskImport.objects.count() == 0

    good = xlsx(
        [
            [taxpayer_a.identifier, "进项异常", "核查进项", DUE, "省局风〔2026〕8号"],
            [taxpayer_b.identifier, "销项骤降", "", DUE.isoformat(), "省局风〔2026〕8号"],
        ]
    )
    response = client.post(url, {"source_name": "市税务局风险管理局", "file": good})
    assert response.status_code == 302
    tasks = RiskTask.objects.order_by("id")
    assert [(t.title, t.source, t.stage, t.due_on, t.source_document) for t in tasks] == [
        ("进项异常", "upper", "identified", DUE, "省局风〔2026〕8号"),
        ("销项骤降", "upper", "identified", DUE, "省局风〔2026〕8号"),
    ]
    good.seek(0)
    again = client.post(url, {"source_name": "市税务局风险管理局", "file": good}, follow=True)
    assert "此前已导入" in again.content.decode() and RiskTask.objects.count() == 2

    # 下发: the ticked tasks to their taxpayers' branches
    response = client.post(reverse("risk:task_push_down"), {"task": [t.pk for t in tasks]}, follow=True)
    assert "已下发 2 件任务" in response.content.decode()
    assert {(t.title, t.branch_id) for t in RiskTask.objects.all()} == {
        ("进项异常", taxpayer_a.branch_id),
        ("销项骤降", taxpayer_b.branch_id),
    }
    assert [t.title for t in client_for("officer_b").get(reverse("risk:tasks")).context["page_obj"]] == ["销项骤降"]


def test_the_risk_officer_walks_a_task_to_an_outcome_that_returns_the_application(client_for, personas, taxpayer_a):
    app = application(taxpayer_a, received_on=TODAY)
    risk, branch = client_for("risk_officer"), client_for("officer_a")
    response = risk.post(
        reverse("risk:task_new") + f"?application={app.pk}",
        {"title": "进项异常核查", "description": "", "severity": "high", "due_on": ""},
    )
    task = RiskTask.objects.get()
    assert response.status_code == 302 and (task.source, task.application) == ("application", app)
    act = lambda client, step, data=None: client.post(reverse("risk:task_act", args=[task.pk, step]), data or {})  # noqa: E731
    assert act(risk, "analyse").status_code == 302
    refused = act(risk, "assign", {"to": "branch", "due_on": DUE.isoformat(), "analysis": ""})
    assert refused.status_code == 400 and "请填写分析意见" in refused.content.decode()
    act(risk, "assign", {"to": "branch", "due_on": DUE.isoformat(), "analysis": "须核实进项"})
    assert act(branch, "close", {"follow_up": "x"}).status_code == 403  # a branch may not take the risk section's step
    act(branch, "respond", {"findings": "进项发票来自走逃企业"})
    act(branch, "submit")
    page = risk.get(reverse("risk:task", args=[task.pk])).content.decode()
    assert "作出处理" in page and '<option value="returned">退回申请</option>' in page
    refused = act(risk, "outcome", {"outcome": "transferred", "note": "移送"})
    assert refused.status_code == 400 and "移送稽查须填写移送文号" in refused.content.decode()
    act(risk, "outcome", {"outcome": "returned", "note": "进项须补充核实"})
    app.refresh_from_db()
    task.refresh_from_db()
    assert (app.state, task.stage) == ("returned", TaskStage.MONITORING)
    page = risk.get(reverse("risk:task", args=[task.pk])).content.decode()
    assert "退回申请" in page and "进项发票来自走逃企业" in page and 'id="step-close"' in page


def test_a_step_out_of_turn_is_refused_with_the_stage(client_for, personas, taxpayer_a):
    task = pushed(personas, taxpayer_a)
    client = client_for("risk_officer")
    response = client.post(reverse("risk:task_act", args=[task.pk, "close"]), {"follow_up": "x"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "只有处于“监控”阶段的任务可以办结" in page


def test_the_workbench_block_counts_by_stage_and_overdue(client_for, personas, taxpayer_a, taxpayer_b):
    late = pushed(personas, taxpayer_a)
    RiskTask.objects.filter(pk=late.pk).update(due_on=TODAY - dt.timedelta(days=2))
    pushed(personas, taxpayer_b)
    block = client_for("risk_officer").get(reverse("home")).content.decode()
    assert 'id="risk-tasks-block"' in block
    assert '<strong id="open-tasks">2</strong>' in block and '<strong id="overdue-tasks">1</strong>' in block
    assert "?stage=open&amp;overdue=1" in block and "?stage=assigned" in block
    branch = client_for("officer_b").get(reverse("home")).content.decode()
    assert '<strong id="open-tasks">1</strong>' in branch and '<strong id="overdue-tasks">0</strong>' in branch
    assert 'id="risk-tasks-block"' not in client_for("refund_officer").get(reverse("home")).content.decode()


@pytest.mark.risk_grade
def test_the_application_panel_offers_the_risk_officer_a_task(client_for, personas, taxpayer_a):
    app = application(taxpayer_a, received_on=TODAY)
    url = reverse("refund:application_detail", args=[app.pk])
    assert 'id="new-task-from-application"' in client_for("risk_officer").get(url).content.decode()
    assert 'id="new-task-from-application"' not in client_for("refund_officer").get(url).content.decode()


@pytest.mark.risk_grade
def test_a_hit_on_the_application_panel_becomes_a_task_with_its_figures(client_for, personas, taxpayer_a):
    from risk.models import RiskHit, Scan, ScanResult

    app = application(taxpayer_a, received_on=TODAY)
    scan = Scan.objects.create(
        kind=Scan.Kind.APPLICATION, as_of=TODAY, application_id=app.pk, status=Scan.Status.SUCCEEDED
    )
    ScanResult.objects.create(scan=scan, taxpayer=taxpayer_a, application_id=app.pk, grade="high", high_hits=1)
    hit = RiskHit.objects.create(
        scan=scan,
        taxpayer=taxpayer_a,
        application_id=app.pk,
        indicator_code="OPS_INPUT_SURGE",
        severity="high",
        evidence={"ratio": "4.2"},
    )
    client = client_for("risk_officer")
    panel = client.get(reverse("refund:application_detail", args=[app.pk])).content.decode()
    assert f'data-new-task-hit="{hit.pk}"' in panel
    form = client.get(reverse("risk:task_new"), {"hit": hit.pk})
    assert form.status_code == 200 and "申请前进项税额激增" in form.content.decode()
    response = client.post(
        reverse("risk:task_new") + f"?hit={hit.pk}",
        {"title": "申请前进项税额激增", "severity": "high", "description": "", "due_on": ""},
    )
    task = RiskTask.objects.get()
    assert response.status_code == 302 and (task.source, task.hit, task.application) == ("scan_hit", hit, app)
    panel = client.get(reverse("refund:application_detail", args=[app.pk])).content.decode()
    assert f'data-new-task-hit="{hit.pk}"' not in panel and f"任务 {task.pk}" in panel
    page = client.get(reverse("risk:task", args=[task.pk])).content.decode()
    assert "高风险申请须经集体会商作出决定" in page
