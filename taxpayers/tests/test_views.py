import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from core.periods import Period
from taxpayers.tests.factories import ComplianceRecordFactory, TaxpayerFactory, VatReturnFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("taxpayers:list")
EXPORT_URL = reverse("taxpayers:export")


def names_in(response) -> list[str]:
    return [t.name for t in response.context["page_obj"]]


def read_xlsx(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


# --- list ----------------------------------------------------------------------------------------


def test_list_masks_identifiers_and_phones(client_for, taxpayer_a):
    response = client_for("refund_officer").get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert taxpayer_a.name in html
    assert f"{taxpayer_a.identifier[:4]}********{taxpayer_a.identifier[-5:]}" in html
    assert "138****8000" in html
    assert "13800138000" not in html
    assert "13912345678" not in html
    assert "共 1 条" in html


def test_branch_officer_lists_only_own_branch(client_for, taxpayer_a, taxpayer_b):
    assert names_in(client_for("officer_a").get(LIST_URL)) == [taxpayer_a.name]
    assert names_in(client_for("officer_b").get(LIST_URL)) == [taxpayer_b.name]
    assert sorted(names_in(client_for("supervisor").get(LIST_URL))) == sorted([taxpayer_a.name, taxpayer_b.name])


def test_branch_filter_offers_only_visible_branches(client_for, org):
    form = client_for("officer_a").get(LIST_URL).context["form"]
    assert [b.code for b in form.fields["branch"].queryset] == ["BRA"]
    # Asking for another branch is refused by the form, not silently obeyed.
    response = client_for("officer_a").get(LIST_URL, {"branch": "BRB"})
    assert "branch" in response.context["form"].errors


def test_search_by_name_substring_or_identifier_prefix(client_for, org):
    one = TaxpayerFactory(branch=org["branch_a"], name="城东精密机械有限公司")
    two = TaxpayerFactory(branch=org["branch_a"], name="城东食品有限公司")
    client = client_for("refund_officer")
    assert names_in(client.get(LIST_URL, {"q": "精密"})) == [one.name]
    assert names_in(client.get(LIST_URL, {"q": two.identifier[:17].lower()})) == [two.name]
    # A substring of the identifier that is not its beginning does not match.
    assert names_in(client.get(LIST_URL, {"q": two.identifier[5:12]})) == []


def test_filters_by_branch_industry_size_and_type(client_for, org):
    machine = TaxpayerFactory(branch=org["branch_a"], industry_code="C3411", size="small")
    food = TaxpayerFactory(branch=org["branch_b"], industry_code="C1391", size="medium")
    shop = TaxpayerFactory(branch=org["branch_b"], industry_code="F5211", size="micro")
    small_scale = TaxpayerFactory(branch=org["branch_a"], general_taxpayer_since=None, industry_code="C3411")
    client = client_for("refund_officer")

    def names(**params):
        return sorted(names_in(client.get(LIST_URL, params)))

    assert names(branch="BRB") == sorted([food.name, shop.name])
    assert names(industry="C") == sorted([machine.name, food.name])
    assert names(industry="34") == [machine.name]
    assert names(industry="c34") == [machine.name]
    assert names(industry="F") == [shop.name]
    assert names(size="medium") == [food.name]
    assert names(size="micro") == [shop.name]
    # General taxpayers only unless asked.
    assert small_scale.name not in names()
    assert names(general="small") == [small_scale.name]
    assert small_scale.name in names(general="all")


def test_invalid_filter_is_shown_and_ignored(client_for, taxpayer_a):
    response = client_for("refund_officer").get(LIST_URL, {"industry": "Z99", "credit_level": "X"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "industry" in errors and "credit_level" in errors
    assert "GB/T 4754-2017" in response.content.decode()
    assert names_in(response) == [taxpayer_a.name]


def test_sort_by_name_descending(client_for, org):
    for name in ("甲公司", "乙公司", "丙公司", "丁公司", "戊公司"):
        TaxpayerFactory(branch=org["branch_a"], name=name)
    client = client_for("refund_officer")
    by_name = client.get(LIST_URL, {"sort": "-name"})
    assert names_in(by_name) == sorted(names_in(by_name), reverse=True)
    # The header link toggles the direction and keeps the filters.
    columns = client.get(LIST_URL, {"sort": "name", "size": "small"}).context["columns"]
    assert columns["name"].direction == "asc"
    assert "sort=-name" in columns["name"].url and "size=small" in columns["name"].url


def test_pagination_with_total_count(client_for, org):
    TaxpayerFactory.create_batch(53, branch=org["branch_a"])
    client = client_for("refund_officer")
    first = client.get(LIST_URL, {"status": "normal"})
    assert len(first.context["page_obj"]) == 50
    html = first.content.decode()
    assert "共 53 条" in html
    assert "?status=normal&page=2" in html
    second = client.get(LIST_URL, {"status": "normal", "page": 2})
    assert len(second.context["page_obj"]) == 3
    assert not set(names_in(first)) & set(names_in(second))


def test_empty_state_without_taxpayers_offers_import(client_for, org):
    html = client_for("refund_officer").get(LIST_URL).content.decode()
    assert "暂无纳税人" in html
    assert "导入纳税人" in html
    # A branch officer cannot import: it is told whom to ask.
    html = client_for("officer_a").get(LIST_URL).content.decode()
    assert "城东税务分局暂无纳税人" in html
    assert "请联系税政一股或信息中心" in html


def test_empty_state_when_filters_exclude_everything(client_for, taxpayer_a):
    html = client_for("refund_officer").get(LIST_URL, {"q": "不存在的公司"}).content.decode()
    assert "没有符合筛选条件的纳税人" in html
    assert "清除筛选" in html


def test_list_query_count_does_not_grow_with_rows(client_for, org, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("refund_officer")
    TaxpayerFactory.create_batch(2, branch=org["branch_a"])
    with CaptureQueriesContext(connection) as few:
        client.get(LIST_URL)
    TaxpayerFactory.create_batch(40, branch=org["branch_b"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST_URL)
    assert len(response.context["page_obj"]) == 42


# --- export ----------------------------------------------------------------------------------------


def test_export_is_exactly_what_the_filters_show_masked_and_audited(client_for, org):
    keep = TaxpayerFactory(branch=org["branch_a"], name="出口甲")
    TaxpayerFactory(branch=org["branch_a"], industry_code="F5211", name="不导出乙")
    TaxpayerFactory.create_batch(55, branch=org["branch_b"])  # more than one page
    response = client_for("refund_officer").get(EXPORT_URL, {"industry": "C", "page": 1})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = read_xlsx(response)
    assert rows[0][:3] == ("纳税人识别号", "纳税人名称", "主管税务机关")
    data = rows[1:]
    assert len(data) == 56
    assert "不导出乙" not in [r[1] for r in data]
    keep_row = next(r for r in data if r[1] == keep.name)
    assert keep_row[0] == f"{keep.identifier[:4]}********{keep.identifier[-5:]}"
    assert keep_row[12] == "138****8000"
    assert keep_row[5] == "通用设备制造业"
    event = AuditEvent.objects.get(verb="export")
    assert event.actor.username == "refund_officer"
    assert event.object_type == "taxpayers.taxpayer"
    assert "56 条" in event.summary and "industry=C" in event.summary


def test_branch_officer_export_excludes_other_branches(client_for, taxpayer_a, taxpayer_b):
    names = [r[1] for r in read_xlsx(client_for("officer_a").get(EXPORT_URL))[1:]]
    assert names == [taxpayer_a.name]


# --- detail ------------------------------------------------------------------------------------------


def test_detail_shows_what_matters_masked(client_for, taxpayer_a):
    VatReturnFactory(taxpayer=taxpayer_a, period="2025-09", end_credit=Decimal("1234567.80"))
    VatReturnFactory(taxpayer=taxpayer_a, period="2025-10", input_customs=Decimal("50000"))
    ComplianceRecordFactory(taxpayer=taxpayer_a, document_number="税稽罚〔2024〕7号")
    response = client_for("officer_a").get(reverse("taxpayers:detail", args=[taxpayer_a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "城东税务分局" in html
    assert "C 制造业" in html and "34 通用设备制造业" in html
    assert "未评价" in html  # no rating held (the credit app's ratings are what it shows)
    assert "138****8000" in html and "13800138000" not in html
    assert "显示完整信息" in html
    # Returns newest first, with amounts formatted and the input tax summed.
    assert [r.period for r in response.context["returns"]] == [Period(2025, 10), Period(2025, 9)]
    assert html.index("2025年10月") < html.index("2025年09月")
    assert "1,234,567.80" in html
    assert "200,000.00" in html  # 150,000 special invoices + 50,000 customs
    assert "税稽罚〔2024〕7号" in html


def test_pages_address_a_taxpayer_by_record_id_never_by_identifier(client_for, taxpayer_a):
    """A full identifier in a URL lands in access logs and browser history, and lets links be harvested."""
    url = reverse("taxpayers:detail", args=[taxpayer_a.pk])
    assert taxpayer_a.identifier not in url
    assert client_for("officer_a").get(url).status_code == 200
    assert client_for("officer_a").get(f"/taxpayers/{taxpayer_a.identifier}/").status_code == 404
    listing = client_for("officer_a").get(reverse("taxpayers:list")).content.decode()
    assert f'href="{url}"' in listing
    assert taxpayer_a.identifier not in listing


def test_reveal_button_only_for_roles_allowed_to_see_contacts(client_for, taxpayer_a):
    url = reverse("taxpayers:detail", args=[taxpayer_a.pk])
    assert "显示完整信息" not in client_for("supervisor").get(url).content.decode()
    assert "显示完整信息" not in client_for("credit_officer").get(url).content.decode()


def test_detail_limits_returns_to_36_with_a_link_for_all(client_for, taxpayer_a):
    for month in range(40):
        VatReturnFactory(taxpayer=taxpayer_a, period=f"{2022 + month // 12}-{month % 12 + 1:02d}")
    url = reverse("taxpayers:detail", args=[taxpayer_a.pk])
    response = client_for("officer_a").get(url)
    assert len(response.context["returns"]) == 36
    assert response.context["returns"][0].period == Period(2025, 4)
    assert "查看全部 40 期" in response.content.decode()
    response = client_for("officer_a").get(url, {"returns": "all"})
    assert len(response.context["returns"]) == 40


# --- reveal ---------------------------------------------------------------------------------------------


def test_reveal_shows_full_values_and_is_audited(client_for, personas, taxpayer_a):
    taxpayer_a.tax_handler_mobile = "13700001111"
    taxpayer_a.save()
    url = reverse("taxpayers:reveal_contacts", args=[taxpayer_a.pk])
    response = client_for("officer_a").post(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "13800138000" in html and "13912345678" in html and "13700001111" in html
    assert f'id="identity-identifier">{taxpayer_a.identifier}<' in html
    event = AuditEvent.objects.get(verb="view_contacts")
    assert event.actor == personas["officer_a"]
    assert event.object_type == "taxpayers.taxpayer"
    assert event.object_id == str(taxpayer_a.pk)
    assert event.request_id


def test_reveal_by_htmx_returns_the_contacts_card(client_for, taxpayer_a):
    url = reverse("taxpayers:reveal_contacts", args=[taxpayer_a.pk])
    response = client_for("refund_officer").post(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="contacts-card"' in html and "13800138000" in html
    assert "<html" not in html
    assert 'hx-swap-oob="true"' in html


def test_reveal_refused_without_permission_or_scope(client_for, taxpayer_a, taxpayer_b):
    reveal_a = reverse("taxpayers:reveal_contacts", args=[taxpayer_a.pk])
    reveal_b = reverse("taxpayers:reveal_contacts", args=[taxpayer_b.pk])
    assert client_for("supervisor").post(reveal_a).status_code == 403
    assert client_for("officer_a").post(reveal_b).status_code == 404
    assert client_for("officer_a").get(reveal_a).status_code == 405
    assert not AuditEvent.objects.filter(verb="view_contacts").exists()


def test_no_template_has_a_multiline_comment_that_would_render():
    """Django's {# #} is single-line: a multi-line one shows up on the page as text."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("templates/**/*.html")
        if not {".venv", "node_modules", "var"} & set(path.relative_to(root).parts)
        for line in path.read_text(encoding="utf-8").splitlines()
        if "{#" in line and "#}" not in line
    ]
    assert offenders == []
