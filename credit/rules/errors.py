"""The one error the credit rules raise for unusable input, carrying the contract's error code.

The codes are those of ``refund_assess`` where they apply (invalid_json, invalid_period,
invalid_date, invalid_amount, negative_amount, out_of_range, unsupported), plus
``unknown_indicator``: an event names an indicator code the rule set of its record date does not have.
"""

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


class CaseError(Exception):
    """The case cannot be assessed; ``code`` is one of ``ERROR_CODES``, ``message`` a Chinese sentence."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}
