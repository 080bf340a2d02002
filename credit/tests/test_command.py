"""``manage.py credit_assess``: file or standard input, one JSON object, exit 0 / 2, no database."""

import io
import json
import sys

import pytest
from django.core.management import call_command

from credit.management.commands.credit_assess import Command
from credit.rules import CONTRACT_KEYS
from credit.tests.builders import case, ev

GOOD = case(
    2024, [ev("010101", "2024-08-16", "2024-08-20", "3000.00", "VAT"), ev("010103", "2024-08-15")], as_of="2024-08-20"
)


def command(source: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, dict]:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code = 0
    try:
        call_command("credit_assess", source, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_file_gives_the_contract_object(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    code, out = command(str(path))
    assert code == 0
    assert tuple(out) == CONTRACT_KEYS
    assert out["rule_set"] == "CN-2014-40"
    assert out["events"][0] == {
        "indicator": "010101",
        "recorded_on": "2024-08-16",
        "deduction": "5",
        "repair": "4",
        "net": "1",
        "band": "within_30_days",
        "citation": "国家税务总局公告2021年第31号 附件2",
    }
    assert out["score"] == "86"  # 90 − 1 − 3 (statements still open)
    assert out["level"] == "B"
    assert out["score_if_all_repaired_now"] == "88.4"
    assert out["refund_credit_gate"] is True
    assert out["warnings"] == [
        {"code": "correct_open_behaviour", "indicator": "010103", "points_at_stake": "2.4", "deadline": "2024-09-14"}
    ]


def test_standard_input(monkeypatch):
    code, out = command("-", json.dumps(GOOD), monkeypatch)
    assert code == 0
    assert out["score"] == "86"


def test_standard_input_with_bom(monkeypatch):
    code, out = command("-", "\ufeff" + json.dumps(GOOD), monkeypatch)
    assert code == 0 and out["level"] == "B"


def test_missing_file_is_exit_2(tmp_path):
    code, out = command(str(tmp_path / "nope.json"))
    assert code == 2
    assert out["error"] == "invalid_json" and out["message"]


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d.update(year="twenty"), "invalid_json"),
        (lambda d: d.update(year=2014), "out_of_range"),
        (lambda d: d.update(as_of="2024-13-01"), "invalid_date"),
        (lambda d: d["events"][0].update(indicator="999999"), "unknown_indicator"),
        (lambda d: d["events"][0].update(amount="-1"), "negative_amount"),
        (lambda d: d["events"][0].update(amount="abc"), "invalid_amount"),
        (lambda d: d["taxpayer"].update(vat_payable_zero_months=["2024-13"]), "invalid_period"),
        (lambda d: d.update(options={"no_such_option": "x"}), "unsupported"),
    ],
)
def test_error_codes_exit_2(tmp_path, mutate, error):
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out = command(str(path))
    assert code == 2
    assert set(out) == {"error", "message"}
    assert out["error"] == error


def test_not_json_is_exit_2(monkeypatch):
    code, out = command("-", "{not json", monkeypatch)
    assert (code, out["error"]) == (2, "invalid_json")


def test_internal_error_is_exit_1_without_traceback(monkeypatch):
    def boom(_):
        raise RuntimeError("x")

    monkeypatch.setattr("credit.management.commands.credit_assess.assess", boom)
    out = io.StringIO()
    cmd = Command(stdout=out)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(GOOD).encode())))
    assert cmd.run("-") == 1
    assert json.loads(out.getvalue())["error"] == "internal_error"


def test_reads_no_database(tmp_path):
    """No ``django_db`` mark: any query would raise, and the command would exit 1."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    assert command(str(path))[0] == 0
