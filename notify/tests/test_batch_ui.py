"""The service officer's pages: 新建短信批次 (paste/upload → preview → confirm → batch page), branch filters,
resend with confirmation and reason, audited exports, branch scope, query counts."""

import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from notify.models import MessageTemplate, SmsBatch, SmsMessage
from notify.services import Recipient, opt_out_add, sms_batch_enqueue, sms_enqueue

pytestmark = pytest.mark.django_db
JIA = {"taxpayer_name": "甲", "amount": 1, "paid_on": "d"}  # a recipient's variables, by the product's keys
YI = {"taxpayer_name": "乙", "amount": 1, "paid_on": "d"}


@pytest.fixture
def template():
    return MessageTemplate.objects.create(
        code="bill", name="退税到账", body="{taxpayer_name}：您的留抵退税{amount}元已于{paid_on}退库。",
        sign_text="【示范县税务局】",
    )


def _preview(client, **data):
    return client.post("/notify/batches/new/", {"name": "五月退税账单", **data})


@override_settings(SMS_QUIET_HOURS="")
def test_paste_preview_confirm_and_the_batch_page(client_for, personas, template, audit_events):
    opt_out_add(mobile="13700137000")
    long_name = "某某" * 30
    pasted = "\n".join([
        "手机号码\t纳税人名称\t退税金额\t退库日期\t备注",
        "13800138000\t甲公司\t1,234.50\t2024-05-22\tx",
        "12345\t乙公司\t10\t2024-05-22\t",  # bad number
        "13900139000\t丙公司\t\t2024-05-22\t",  # empty variable
        "13700137000\t丁公司\t20\t2024-05-22\t",  # opted out
        "13800138000\t甲公司\t1,234.50\t2024-05-22\tx",  # same number, same text
        "138 0013 8000\t戊公司\t30\t2024-05-22\t",  # same number, another taxpayer's text
        f"13600136000\t{long_name}\t40\t2024-05-22\t",  # two parts
        "",
    ])
    client = client_for("service_officer")
    response = _preview(client, template=template.pk, recipients_text=pasted)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.to_send, preview.errors, preview.opted_out, preview.duplicates) == (3, 2, 1, 1)
    assert preview.parts == 1 + 1 + 2
    assert preview.rows[0].text == "甲公司：您的留抵退税1,234.50元已于2024-05-22退库。【示范县税务局】"
    assert [r.parts for r in preview.rows if r.row == 8] == [2]
    assert preview.notices == ["以下列不是模板变量，已忽略：备注"]
    html = response.content.decode()
    assert "138****8000" in html and "13800138000" not in html and "13900139000" not in html
    assert "12345" not in html  # an invalid number is masked in the reason too
    assert "确认发送 3 条" in html and "“退税金额”列为空，请填写" in html and "“手机号码”列的号码无效" in html
    assert "amount" not in html and "taxpayer_name" not in html
    assert SmsMessage.objects.count() == 0  # nothing is sent before the confirmation

    token = response.context["token"]
    # Another officer cannot send someone else's preview.
    other = client_for("refund_officer").post("/notify/batches/new/confirm/", {"token": token})
    assert other.status_code == 302 and other["Location"] == "/notify/batches/new/"
    assert SmsBatch.objects.count() == 0

    done = client.post("/notify/batches/new/confirm/", {"token": token})
    batch = SmsBatch.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/notify/batches/{batch.pk}/"
    statuses = sorted(batch.messages.values_list("status", flat=True))
    assert batch.total == 6 and statuses == ["cancelled", "failed", "failed", "queued", "queued", "queued"]
    assert batch.messages.filter(recipient="13800138000").count() == 2  # 甲 and 戊, not 甲 twice
    assert batch.created_by == personas["service_officer"]
    again = client.post("/notify/batches/new/confirm/", {"token": token})
    assert again["Location"] == done["Location"] and SmsMessage.objects.count() == 6
    assert audit_events.only("send").object_id == str(batch.pk)

    page = client.get(done["Location"])
    assert page.status_code == 200 and page.context["batch"].shown["counts"]["queued"] == 3
    assert 'hx-trigger="every 2s"' in page.content.decode()  # refreshes while sending


def test_upload_xlsx_and_gb18030_csv_read_every_cell_as_text(client_for, template):
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["手机号码", "纳税人名称", "退税金额", "退库日期"])
    sheet.append([13800138000, "甲公司", 1234.5, dt.datetime(2024, 5, 22)])  # numbers and a date as Excel keeps them
    buffer = io.BytesIO()
    book.save(buffer)
    client = client_for("service_officer")
    upload = SimpleUploadedFile("名单.xlsx", buffer.getvalue())
    response = _preview(client, template=template.pk, recipients_file=upload)
    assert response.status_code == 200
    row = response.context["preview"].rows[0]
    assert (row.mobile, row.text) == ("13800138000", "甲公司：您的留抵退税1234.5元已于2024-05-22退库。【示范县税务局】")

    # An older file with the variables' keys as headers is still read.
    csv_bytes = "手机号码,taxpayer_name,amount,paid_on\n13900139000,乙公司,10,5月22日\n".encode("gb18030")
    response = _preview(client, template=template.pk, recipients_file=SimpleUploadedFile("名单.csv", csv_bytes))
    assert response.context["preview"].rows[0].text.startswith("乙公司：您的留抵退税10元已于5月22日")


@override_settings(SMS_BATCH_UPLOAD_MAX_ROWS=2)
def test_bad_lists_get_clear_chinese_errors(client_for, template):
    client = client_for("service_officer")

    def error(**data):
        response = _preview(client, template=template.pk, **data)
        assert response.status_code == 400
        form = response.context["form"]
        return " ".join(e for errors in form.errors.values() for e in errors)

    assert "请粘贴收件人或上传文件" in error()
    assert "第 1 行（表头）没有“手机号码”列；表头应为：手机号码、纳税人名称、退税金额、退库日期" in error(
        recipients_text="电话号码x\t纳税人名称\n13800138000\t甲")
    missing = error(recipients_text="手机号码\t纳税人名称\n13800138000\t甲")
    assert "第 1 行（表头）缺少“退税金额”“退库日期”列" in missing and "amount" not in missing
    assert "超过每批上限 2 个" in error(recipients_text="13800138000,甲,1,2\n13900139000,乙,1,2\n13700137000,丙,1,2")
    assert "只能上传 .xlsx 或 .csv" in error(recipients_file=SimpleUploadedFile("a.txt", b"x"))
    assert "无法读取该 xlsx" in error(recipients_file=SimpleUploadedFile("a.xlsx", b"not a zip"))
    both = error(recipients_text="13800138000,甲,1,2", recipients_file=SimpleUploadedFile("a.csv", b"x"))
    assert "只能选一种" in both
    headerless = _preview(client, template=template.pk, recipients_text="13800138000，甲公司，1，5月22日")
    assert headerless.status_code == 200 and headerless.context["preview"].to_send == 1


def test_template_info_partial(client_for, template):
    template.mas_template_id = "0123456789abcdef0123456789abcdef"
    template.save()
    client = client_for("service_officer")
    html = client.get(f"/notify/batches/new/template/?template={template.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert "手机号码、纳税人名称、退税金额、退库日期" in html and "云MAS模板" in html
    assert "{纳税人名称}：您的留抵退税{退税金额}元已于{退库日期}退库。" in html
    assert "taxpayer_name" not in html and "amount" not in html and "tmpsubmit" not in html
    assert "选择模板后" in client.get("/notify/batches/new/template/?template=x").content.decode()
    form = client.get(f"/notify/batches/new/?template={template.pk}")
    assert form.status_code == 200 and "手机号码、纳税人名称、退税金额、退库日期" in form.content.decode()
    assert "taxpayer_name" not in form.content.decode() and "（bill）" not in form.content.decode()


@override_settings(SMS_QUIET_HOURS="")
def test_batch_page_progress_partial_stops_polling_when_done(client_for, template):
    batch = sms_batch_enqueue(name="b", template=template, key_prefix="p",
                              recipients=[Recipient("13800138000", JIA)])
    client = client_for("service_officer")
    url = f"/notify/batches/{batch.pk}/?part=progress"
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('\n<div id="batch-progress" hx-get') and "<html" not in partial
    SmsMessage.objects.update(status="delivered")
    from notify.services import batch_refresh_status

    batch_refresh_status(batch_ids=[batch.pk])
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in done and "100%" in done


def test_lists_filter_by_branch_and_status(client_for, org, template):
    a, b = org["branch_a"].pk, org["branch_b"].pk
    batch_a = sms_batch_enqueue(name="城东", template=template, key_prefix="a", branch_id=a,
                                recipients=[Recipient("13800138000", JIA)])
    sms_batch_enqueue(name="城西", template=template, key_prefix="b", branch_id=b,
                      recipients=[Recipient("1234", YI)])
    client = client_for("service_officer")
    batches = client.get(f"/notify/batches/?branch={a}")
    assert [x.name for x in batches.context["page_obj"]] == ["城东"]
    assert "城东税务分局" in batches.content.decode()
    assert [x.name for x in client.get("/notify/batches/?status=done").context["page_obj"]] == ["城西"]
    messages = client.get(f"/notify/messages/?branch={b}")
    assert [m.recipient for m in messages.context["page_obj"]] == ["1234"]
    assert [m.branch_name for m in messages.context["page_obj"]] == ["城西税务分局"]
    assert client.get(f"/notify/messages/?batch={batch_a.pk}").context["batch"].pk == batch_a.pk


@override_settings(SMS_QUIET_HOURS="")
def test_resend_selection_confirms_then_resends_with_reason(client_for, personas, audit_events):
    failed = [sms_enqueue(to=f"1380013800{i}", text="您好", idempotency_key=f"f{i}") for i in range(3)]
    SmsMessage.objects.filter(pk__in=[m.pk for m in failed[:2]]).update(status="failed", error_code="NoSignId")
    client = client_for("service_officer")
    listing = client.get("/notify/messages/?status=failed").content.decode()
    assert listing.count('form="resend-form"') == 2
    ids = [m.pk for m in failed]  # the third is not failed: never resent
    confirm = client.post("/notify/messages/resend/", {"id": ids, "next": "/notify/messages/"})
    assert confirm.status_code == 200 and confirm.context["count"] == 2
    assert "将重发 <strong id=\"resend-count\">2</strong> 条" in confirm.content.decode()
    assert SmsMessage.objects.count() == 3
    no_reason = client.post("/notify/messages/resend/", {"id": ids, "confirm": "1"})
    assert no_reason.status_code == 200 and "请填写重发原因" in no_reason.content.decode()
    done = client.post("/notify/messages/resend/", {"id": ids, "confirm": "1", "reason": "签名已更正",
                                                   "next": "/notify/messages/?status=failed"})
    assert done.status_code == 302 and done["Location"] == "/notify/messages/?status=failed"
    assert SmsMessage.objects.filter(resend_of__isnull=False).count() == 2
    event = audit_events.only("resend")
    assert event.actor == personas["service_officer"] and "2 条" in event.summary and "签名已更正" in event.summary
    nothing = client.post("/notify/messages/resend/", {"id": ids})
    assert nothing.status_code == 400 and "没有可重发的短信" in nothing.content.decode()


def test_exports_are_audited_and_masked(client_for, personas, template, audit_events):
    sms_batch_enqueue(name="导出", template=template, key_prefix="e",
                      recipients=[Recipient("13800138000", JIA)])
    client = client_for("service_officer")
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/notify/messages/export/?status=queued").content)).active
    assert list(sheet.values)[1][1] == "138****8000"
    batches = openpyxl.load_workbook(io.BytesIO(client.get("/notify/batches/export/").content)).active
    assert list(batches.values)[1][1] == "导出"
    events = [(e.object_type, e.summary) for e in audit_events if e.verb == "export"]
    assert events == [("notify.smsmessage", "导出短信记录（1 条）；筛选条件：status=queued"),
                      ("notify.smsbatch", "导出短信批次（1 条）")]
    assert all(e.actor == personas["service_officer"] for e in audit_events if e.verb == "export")


def test_a_branch_scoped_reader_sees_only_its_branch(client_for, personas, org, template):
    officer = personas["officer_a"]
    officer.user_permissions.add(*Permission.objects.filter(codename__in=["view_smsbatch", "view_smsmessage"]))
    a = sms_batch_enqueue(name="城东", template=template, key_prefix="a", branch_id=org["branch_a"].pk,
                          recipients=[Recipient("13800138000", JIA)])
    b = sms_batch_enqueue(name="城西", template=template, key_prefix="b", branch_id=org["branch_b"].pk,
                          recipients=[Recipient("13900139000", YI)])
    client = client_for("officer_a")
    assert client.get(f"/notify/batches/{a.pk}/").status_code == 200
    assert client.get(f"/notify/batches/{b.pk}/").status_code == 404
    assert [x.name for x in client.get("/notify/batches/").context["page_obj"]] == ["城东"]
    assert [m.recipient for m in client.get("/notify/messages/").context["page_obj"]] == ["13800138000"]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_use_a_fixed_number_of_queries(client_for, org, template):
    client = client_for("service_officer")

    def add(n, start):
        for i in range(start, start + n):
            sms_batch_enqueue(name=f"批{i}", template=template, key_prefix=f"q{i}", branch_id=org["branch_a"].pk,
                              recipients=[Recipient(f"1380013{i:04d}", JIA),
                                          Recipient("1", JIA)])

    add(1, 0)
    first = SmsBatch.objects.get()
    counts = [_queries(client, "/notify/batches/"), _queries(client, "/notify/messages/"),
              _queries(client, f"/notify/batches/{first.pk}/")]
    add(24, 1)
    SmsMessage.objects.filter(recipient="1").update(status="failed")
    assert [_queries(client, "/notify/batches/"), _queries(client, "/notify/messages/"),
            _queries(client, f"/notify/batches/{first.pk}/")] == counts
    assert counts[0] <= 12 and counts[1] <= 12
