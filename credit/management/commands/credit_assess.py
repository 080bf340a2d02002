"""``python manage.py credit_assess CASE.json`` (or ``-`` for standard input).

The public face of ``credit/rules``: exit 0 and one JSON object (score, level, each behaviour's
deduction and repair, warnings), exit 2 and ``{"error", "message"}`` when the input is unusable.
Standard output carries only that JSON; it reads no database.
"""

from __future__ import annotations

import json
import logging
import sys

from django.core.management.base import BaseCommand

from credit.rules import CaseError, assess, load_case_json, to_contract_json

logger = logging.getLogger(__name__)

EXIT_UNUSABLE = 2
EXIT_INTERNAL = 1


class Command(BaseCommand):
    help = "Assess one taxpayer's credit rating for one year (case JSON) and print the result."
    requires_system_checks: list[str] = []  # reads no database; keep start-up lean
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("case", help="path to the case JSON file, or '-' for standard input")

    def handle(self, *args, **options) -> None:
        code = self.run(options["case"])
        if code:
            raise SystemExit(code)

    def run(self, source: str) -> int:
        """Assess and print; returns the exit code instead of raising, so nothing escapes as a traceback."""
        try:
            self._emit(to_contract_json(assess(load_case_json(self._read(source)))))
            return 0
        except CaseError as exc:
            self._emit(exc.as_dict())
            return EXIT_UNUSABLE
        except Exception as exc:  # the boundary: log in English, never print a traceback
            logger.error("credit_assess failed on %s: %s: %s", source, type(exc).__name__, exc)
            self._emit({"error": "internal_error", "message": "评估时发生内部错误，请联系信息中心。"})
            return EXIT_INTERNAL

    def _read(self, source: str) -> str:
        try:
            if source == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(source, "rb") as handle:
                    data = handle.read()
        except OSError as exc:
            raise CaseError("invalid_json", f"无法读取输入文件 {source}：{exc.strerror}。") from None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CaseError("invalid_json", "输入不是 UTF-8 编码的 JSON。") from None

    def _emit(self, payload: dict) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1))
