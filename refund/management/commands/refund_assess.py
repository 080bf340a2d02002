"""``python manage.py refund_assess CASE.json`` (or ``-`` for standard input).

The public face of ``refund/rules`` (its JSON format: refund/rules/README.md): exit 0 and one JSON
object when the case was assessed, exit 2 and ``{"error", "message"}`` when the input is
unusable. Standard output carries only that JSON; it reads no database.
"""

from __future__ import annotations

import logging

from core.json_command import JsonCommand
from refund.rules import CaseError, assess, load_case_json

logger = logging.getLogger(__name__)


class Command(JsonCommand):
    help = "Assess one VAT credit refund case (JSON as in refund/rules/README.md) and print the decision."
    internal_message = "评估时发生内部错误，请联系信息中心。"
    indent = 1
    requires_system_checks: list[str] = []  # reads no database; keep start-up lean
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("case", help="path to the case JSON file, or '-' for standard input")
        parser.add_argument("--trace", action="store_true", help="append the figures used and the options applied")

    def handle(self, *args, **options) -> None:
        code = self.run(options["case"], with_trace=options["trace"])
        if code:
            raise SystemExit(code)

    def run(self, source: str, *, with_trace: bool = False) -> int:
        return self.answer(
            source,
            CaseError,
            logger,
            lambda text: assess(load_case_json(text)).as_contract_dict(with_trace=with_trace),
        )
