"""The one error hierarchy of our services. Messages are Chinese, for users; logs stay English."""


class ApplicationError(Exception):
    """A business rule refused the action; ``message`` is shown to the user as is."""

    status_code = 400
    code = "application_error"

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.extra = extra or {}


class ConflictError(ApplicationError):
    status_code = 409
    code = "conflict"
