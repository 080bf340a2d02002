"""The risk app hands its checks to the applications' risk gate through refund's registry (risk/apps.py)."""

from refund.applications import risk as gate
from risk.apps import CHECKS_MODULE, register_application_checks


def test_nothing_is_registered_while_the_risk_app_has_no_checks_module():
    assert register_application_checks(CHECKS_MODULE) is False
    assert gate.provided_checks() == []


def test_a_checks_module_is_registered_with_the_gate():
    stub = "refund.tests.risk_provider_stub"
    try:
        assert register_application_checks(stub) is True
        assert [check.code for check in gate.provided_checks()] == ["risk_large_refund"]
        assert gate.risk_title("risk_large_refund") == "大额退税"
    finally:
        gate.unregister_application_checks(["risk_large_refund"])
    assert gate.provided_checks() == []
