"""A stand-in for a check the risk app provides (``refund.applications.risk.register_application_checks``)."""

from types import SimpleNamespace


def _large_refund(context):
    amount = context.figures.amount
    if amount is not None and amount >= 1_000_000:
        return {"amount": str(amount), "facts": [["可退税额（元）", str(amount)]]}
    return None


APPLICATION_CHECKS = [SimpleNamespace(code="risk_large_refund", title="大额退税", run=_large_refund)]
