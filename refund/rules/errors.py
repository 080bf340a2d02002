"""The one error the rules raise for unusable input, carrying the contract's error code.

Codes (the JSON format's error codes): invalid_json, invalid_period,
invalid_date, invalid_amount, negative_amount, missing_return, missing_size,
missing_industry, out_of_range, unsupported.
"""

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
