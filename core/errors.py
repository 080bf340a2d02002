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


class FileRejected(ApplicationError):
    """A whole file refused for its row errors (all or nothing): ``errors`` lists them (row, column, value, reason),
    ``warnings`` what was only noted; nothing was stored. A subclass gives the code and the sentence, whose
    ``{count}`` is the number of errors."""

    message_template = "文件有 {count} 处错误，未导入任何数据。"

    def __init__(self, errors, warnings=()):
        super().__init__(self.message_template.format(count=len(errors)))
        self.errors = list(errors)
        self.warnings = list(warnings)
