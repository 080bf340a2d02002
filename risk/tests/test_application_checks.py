"""The risk app's four checks join the applications' risk gate through refund's registry (risk/apps.py), and
their parameters are the library's: dated versions that risk officers record, each with its citation."""

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import ApplicationError
from refund.applications import risk as gate
from risk.application_checks import APPLICATION_CHECKS, GATE_CHECKS
from risk.apps import CHECKS_MODULE, register_application_checks
from risk.selectors import indicator_row, parameters_in_force
from risk.services import indicator_parameter_change

GATE_CODES = ["recomputation_mismatch", "credit_level", "compliance_changed", "computed_ineligible"]


def test_the_four_checks_are_registered_with_the_gate_in_order():
    assert [check.code for check in gate.provided_checks()] == GATE_CODES
    assert [gate.risk_title(code) for code in GATE_CODES] == [
        "重算金额不一致",
        "纳税信用级别不符",
        "涉税合规记录变化",
        "规则判定不符合",
    ]
    assert register_application_checks(CHECKS_MODULE) is True  # registering again replaces, never doubles
    assert [check.code for check in gate.provided_checks()] == GATE_CODES


def test_a_missing_module_registers_nothing():
    assert register_application_checks("risk.no_such_checks") is False
    assert [check.code for check in gate.provided_checks()] == GATE_CODES


def test_a_checks_module_is_registered_with_the_gate():
    stub = "refund.tests.risk_provider_stub"
    try:
        assert register_application_checks(stub) is True
        assert [check.code for check in gate.provided_checks()] == [*GATE_CODES, "risk_large_refund"]
        assert gate.risk_title("risk_large_refund") == "大额退税"
    finally:
        gate.unregister_application_checks(["risk_large_refund"])
    assert [check.code for check in gate.provided_checks()] == GATE_CODES


def test_without_any_check_the_gate_refuses_rather_than_passes():
    gate.unregister_application_checks(APPLICATION_CHECKS)
    try:
        with pytest.raises(gate.GateUnavailable, match="风险检查未加载"):
            gate.run_gate(application=None, stage=gate.ARRIVAL, decision=None)
    finally:
        gate.register_application_checks(APPLICATION_CHECKS)
    assert [check.code for check in gate.provided_checks()] == GATE_CODES


@pytest.mark.django_db
def test_tolerance_and_levels_are_dated_parameters_with_citations(personas):
    officer = personas["risk_officer"]
    day = dt.date(2026, 3, 1)
    assert parameters_in_force(day)["APP_RECOMPUTE"]["tolerance"].text == "0.00"
    assert parameters_in_force(day)["APP_CREDIT_LEVEL"]["levels"].text == "A,B"
    assert GATE_CHECKS["APP_RECOMPUTE"].values_on(day) == {"tolerance": Decimal("0.00")}
    indicator_parameter_change(
        actor=officer, code="APP_RECOMPUTE", parameter="tolerance", value="1", effective_from=day, reason="允许尾差"
    )
    indicator_parameter_change(
        actor=officer, code="APP_CREDIT_LEVEL", parameter="levels", value="a，b、M", effective_from=day, reason="试点"
    )
    assert GATE_CHECKS["APP_RECOMPUTE"].values_on(day) == {"tolerance": Decimal("1")}
    assert GATE_CHECKS["APP_RECOMPUTE"].values_on(day - dt.timedelta(days=1)) == {"tolerance": Decimal("0.00")}
    assert GATE_CHECKS["APP_CREDIT_LEVEL"].values_on(day) == {"levels": ("A", "B", "M")}
    row = indicator_row("APP_CREDIT_LEVEL", day)
    (shown,) = row.parameter_rows
    assert shown["value"] == "A级或B级或M级" and shown["default"] == "A级或B级"
    assert "公告2019年第39号 第八条第（一）项第2目" in shown["citation"]
    assert "第八条第（三）项" in indicator_row("APP_RECOMPUTE", day).parameter_rows[0]["citation"]
    with pytest.raises(ApplicationError, match="纳税信用级别"):
        indicator_parameter_change(
            actor=officer, code="APP_CREDIT_LEVEL", parameter="levels", value="E", effective_from=day, reason="错"
        )


def _gate_codes(application) -> set[str]:
    return set(application.risk_hits.values_list("code", flat=True))


@pytest.mark.django_db
def test_the_gate_applies_the_parameters_in_force_on_the_application_date(personas, org):
    from refund.tests.applications import RECEIVED_ON, eligible_taxpayer, receive, rules_amount

    officer, risk_officer = personas["refund_officer"], personas["risk_officer"]
    near = eligible_taxpayer(org["branch_a"])
    off_by_half = rules_amount(near) + Decimal("0.50")
    assert _gate_codes(receive(officer, near, claimed=off_by_half)) == {"recomputation_mismatch"}  # 0.00 by default

    indicator_parameter_change(
        actor=risk_officer,
        code="APP_RECOMPUTE",
        parameter="tolerance",
        value="1.00",
        effective_from=RECEIVED_ON,
        reason="尾差",
    )
    indicator_parameter_change(
        actor=risk_officer,
        code="APP_CREDIT_LEVEL",
        parameter="levels",
        value="B",
        effective_from=RECEIVED_ON,
        reason="试行仅B级",
    )
    again = eligible_taxpayer(org["branch_a"])  # rated A: now outside the levels allowed
    received = receive(officer, again, claimed=rules_amount(again) + Decimal("0.50"))
    assert _gate_codes(received) == {"credit_level"}
    (hit,) = received.risk_hits.all()
    assert hit.title == "纳税信用级别不符" and hit.evidence["allowed"] == ["B"]
    assert dict(hit.evidence["facts"])["要求"] == "纳税信用级别为B级"


@pytest.mark.django_db
def test_the_library_pages_show_the_gate_checks_and_record_their_parameters(client_for, personas):
    from django.urls import reverse

    client = client_for("risk_officer")
    listing = client.get(reverse("risk:indicators")).content.decode()
    assert 'id="risk-gate-checks"' in listing and "退税申请风险关卡" in listing
    assert "重算金额不一致" in listing and "允许的纳税信用级别：A级或B级" in listing
    assert ">APP_" not in listing

    url = reverse("risk:indicator", args=["APP_CREDIT_LEVEL"])
    page = client.get(url).content.decode()
    assert "依据" in page and "第八条第（一）项第2目" in page
    day = dt.date(2026, 3, 1).isoformat()
    posted = client.post(url, {"parameter": "levels", "value": "A", "effective_from": day, "reason": "从严"})
    assert posted.status_code == 302
    assert "A级" in client.get(url).content.decode() and "从严" in client.get(url).content.decode()
