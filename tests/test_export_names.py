"""Every xlsx the product hands out — list exports, import templates, error lists, samples — is named in Chinese:
the file (``短信记录-20261117-0930.xlsx``, RFC 5987 ``filename*`` with an ASCII ``filename`` fallback) and every
sheet in it (the export's title, never "Sheet1").

``DOWNLOADS`` must name every download URL of the product: a new export without a row here fails
``test_every_download_url_is_in_the_table``.
"""

import io
import re
from collections.abc import Callable
from urllib.parse import unquote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from core.xlsx import content_disposition
from taxpayers.models import ImportJob
from tests.test_access_matrix import (
    _applications,
    _candidates,
    _failed_import,
    _ledger,
    _repair_notices,
    _risk_scan,
    _sample,
    _screening_run,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def _import_template(kind: str) -> Callable[[dict], str]:
    return lambda f: reverse("taxpayers:import_template", args=[kind])


def _credit_template(kind: str) -> Callable[[dict], str]:
    return lambda f: reverse("credit:import_template", args=[kind])


# url name -> (persona allowed to download, the URL built from the fixtures)
DOWNLOADS: dict[str, list[tuple[str, Callable[[dict], str]]]] = {
    "accounts:audit_export": [("supervisor", lambda f: reverse("accounts:audit_export"))],
    "taxpayers:export": [("refund_officer", lambda f: reverse("taxpayers:export"))],
    "taxpayers:import_template": [("refund_officer", _import_template(kind)) for kind in ImportJob.Kind.values],
    "credit:import_template": [
        ("credit_officer", _credit_template(kind)) for kind in ("ratings", "events", "flags")
    ],
    "credit:banktax_export": [("service_officer", lambda f: reverse("credit:banktax_export"))],
    "credit:warning_export": [
        ("credit_officer", lambda f, kind=kind: reverse("credit:warning_export", args=[kind]))
        for kind in ("at_risk", "follow", "repairable", "all")
    ],
    "taxpayers:import_errors_download": [
        ("refund_officer", lambda f: reverse("taxpayers:import_errors_download", args=[f["import_job"].pk]))
    ],
    "refund:run_export": [("refund_officer", lambda f: reverse("refund:run_export", args=[f["screening_run"].pk]))],
    "refund:candidate_list_export": [
        ("refund_officer", lambda f: reverse("refund:candidate_list_export", args=[_candidates(f)["list_a"].pk])),
        ("refund_officer", lambda f: reverse("refund:candidate_list_export", args=[_candidates(f)["service"].pk])),
    ],
    "refund:my_candidates_export": [("officer_a", lambda f: reverse("refund:my_candidates_export"))],
    "refund:repair_notices_export": [
        ("service_officer", lambda f: (_repair_notices(f), reverse("refund:repair_notices_export"))[1])
    ],
    "refund:application_queue_export": [
        ("refund_officer", lambda f: (_applications(f), reverse("refund:application_queue_export"))[1])
    ],
    "ledger:entries_export": [("refund_officer", lambda f: (_ledger(f), reverse("ledger:entries_export"))[1])],
    "ledger:refunded_export": [("refund_officer", lambda f: (_ledger(f), reverse("ledger:refunded_export"))[1])],
    "ledger:unpaid_export": [("refund_officer", lambda f: (_ledger(f), reverse("ledger:unpaid_export"))[1])],
    "ledger:payment_import_sample": [("refund_officer", lambda f: reverse("ledger:payment_import_sample"))],
    "ledger:clawbacks_export": [("risk_officer", lambda f: (_ledger(f), reverse("ledger:clawbacks_export"))[1])],
    "risk:review_export": [
        ("risk_officer", lambda f: reverse("risk:review_export", args=[str(_sample(f).period)])),
    ],
    "notify:message_export": [("service_officer", lambda f: reverse("notify:message_export"))],
    "notify:batch_export": [("service_officer", lambda f: reverse("notify:batch_export"))],
    "risk:consultation_export": [("risk_officer", lambda f: reverse("risk:consultation_export"))],
    "risk:task_export": [("risk_officer", lambda f: reverse("risk:task_export"))],
    "risk:scan_export": [("risk_officer", lambda f: reverse("risk:scan_export", args=[_risk_scan(f)["all"]]))],
}
# Downloads that are not ours to name: the file an officer uploaded comes back under the name it was uploaded with.
NOT_NAMED_BY_US = {"taxpayers:import_file_download", "risk:task_file_download"}


def _url_names(resolver=None, namespace: str = ""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            yield from _url_names(pattern, inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name, str(pattern.pattern)


def test_every_download_url_is_in_the_table():
    downloads = {
        name
        for name, route in _url_names()
        if not name.startswith("admin:") and re.search(r"export|download|sample|\.xlsx", f"{name} {route}")
    }
    assert downloads - NOT_NAMED_BY_US == set(DOWNLOADS)


def _names(response) -> tuple[str, str]:
    """(the UTF-8 ``filename*``, the ASCII ``filename``) of an attachment."""
    header = response["Content-Disposition"]
    assert header.startswith("attachment;"), header
    utf8 = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    fallback = re.search(r'filename="([^"]+)"', header)
    assert utf8 and fallback, f"RFC 5987 name and ASCII fallback expected: {header}"
    return unquote(utf8.group(1)), fallback.group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", list(DOWNLOADS))
def test_every_export_has_a_chinese_file_name_and_chinese_sheet_names(
    client_for, personas, taxpayer_a, taxpayer_b, url_name
):
    fixtures = {
        "taxpayer_a": taxpayer_a,
        "taxpayer_b": taxpayer_b,
        "import_job": _failed_import(personas),
        "screening_run": _screening_run(taxpayer_a, taxpayer_b),
    }
    for persona, url in DOWNLOADS[url_name]:
        response = client_for(persona).get(url(fixtures))
        assert response.status_code == 200, f"{url_name} as {persona}: {response.status_code}"
        filename, fallback = _names(response)
        assert CJK.search(filename) and filename.endswith(".xlsx"), filename
        assert fallback.isascii() and fallback.endswith(".xlsx") and fallback.startswith("export"), fallback
        body = b"".join(response.streaming_content) if response.streaming else response.content
        book = load_workbook(io.BytesIO(body), read_only=True)
        assert all(CJK.search(name) and name != "Sheet1" for name in book.sheetnames), book.sheetnames
        assert book.sheetnames[0] in filename, (book.sheetnames, filename)  # the sheet carries the export's title


def test_the_header_carries_the_chinese_name_and_an_ascii_fallback():
    assert content_disposition("a b\"c.xlsx") == "attachment; filename=\"a-b-c.xlsx\"; filename*=UTF-8''a%20b%22c.xlsx"
    assert content_disposition("无") == "attachment; filename=\"export\"; filename*=UTF-8''%E6%97%A0"
    assert content_disposition("短信记录-20261117-0930.xlsx") == (
        "attachment; filename=\"export-20261117-0930.xlsx\"; "
        "filename*=UTF-8''%E7%9F%AD%E4%BF%A1%E8%AE%B0%E5%BD%95-20261117-0930.xlsx"
    )
