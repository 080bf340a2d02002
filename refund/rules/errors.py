"""The one error the rules raise for unusable input, carrying the contract's error code.

Codes (the JSON format's error codes): invalid_json, invalid_period,
invalid_date, invalid_amount, negative_amount, missing_return, missing_size,
missing_industry, out_of_range, unsupported.
"""

from core.contract import ContractError

ERROR_CODES = (
    "invalid_json",
    "invalid_period",
    "invalid_date",
    "invalid_amount",
    "negative_amount",
    "missing_return",
    "missing_size",
    "missing_industry",
    "out_of_range",
    "unsupported",
)


class CaseError(ContractError):
    """The case cannot be assessed; ``code`` is one of ``ERROR_CODES``, ``message`` a Chinese sentence."""

    codes = ERROR_CODES
