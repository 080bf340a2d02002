"""The boundary the JSON commands share (``refund_assess``, ``credit_assess``, ``filing_calendar``): standard
output carries one JSON object, exit 0 for an answer, 2 for unusable input, 1 for an internal error that is logged
in English and never printed as a traceback."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable

from django.core.management.base import BaseCommand

from .contract import ContractError

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

    def read_input(self, source: str, error: type[ContractError]) -> str:
        """The case text from a file or standard input (``-``); unreadable input is the contract's invalid_json."""
        try:
            if source == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(source, "rb") as handle:
                    data = handle.read()
        except OSError as exc:
            raise error("invalid_json", f"无法读取输入文件 {source}：{exc.strerror}。") from None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise error("invalid_json", "输入不是 UTF-8 编码的 JSON。") from None

    def answer(
        self, source: str, error: type[ContractError], logger: logging.Logger, compute: Callable[[str], dict]
    ) -> int:
        """Read the input, print ``compute(text)``, and return the exit code instead of raising, so nothing
        escapes as a traceback."""
        try:
            self.emit(compute(self.read_input(source, error)))
            return 0
        except error as exc:
            self.emit(exc.as_dict())
            return EXIT_UNUSABLE
        except Exception as exc:  # the boundary: log in English, never print a traceback
            return self.internal_error(logger, f"{self.__module__.rsplit('.', 1)[-1]} failed on {source}", exc)
