"""The boundary the refund's JSON commands share: standard output carries one JSON object, exit 0 for an answer,
2 for unusable input, 1 for an internal error that is logged in English and never printed as a traceback."""

from __future__ import annotations

import json
import logging

from django.core.management.base import BaseCommand

EXIT_UNUSABLE = 2
EXIT_INTERNAL = 1


class JsonCommand(BaseCommand):
    internal_message = "发生内部错误，请联系信息中心。"  # the sentence an officer reads for an internal error
    indent: int | None = None

    def emit(self, payload: dict) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=self.indent))

    def internal_error(self, logger: logging.Logger, what: str, exc: Exception) -> int:
        """Log the failure (``what`` names the command and its input) and answer with the internal-error JSON."""
        logger.error("%s: %s: %s", what, type(exc).__name__, exc)
        self.emit({"error": "internal_error", "message": self.internal_message})
        return EXIT_INTERNAL
