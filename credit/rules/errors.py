"""The one error the credit rules raise for unusable input, carrying the contract's error code.

The codes are those of ``refund_assess`` where they apply (invalid_json, invalid_period,
invalid_date, invalid_amount, negative_amount, out_of_range, unsupported), plus
``unknown_indicator``: an event names an indicator code the rule set of its record date does not have.
"""

from core.contract import ContractError

ERROR_CODES = (
    "invalid_json",
    "invalid_period",
    "invalid_date",
    "invalid_amount",
    "negative_amount",
    "out_of_range",
    "unsupported",
    "unknown_indicator",
)


class CaseError(ContractError):
    """The case cannot be assessed; ``code`` is one of ``ERROR_CODES``, ``message`` a Chinese sentence."""

    codes = ERROR_CODES
