"""``python manage.py credit_assess CASE.json`` (or ``-`` for standard input).

The public face of ``credit/rules``: exit 0 and one JSON object (score, level, each behaviour's
deduction and repair, warnings), exit 2 and ``{"error", "message"}`` when the input is unusable.
Standard output carries only that JSON; it reads no database.
"""

from __future__ import annotations

import logging

from core.json_command import JsonCommand
from credit.rules import CaseError, assess, load_case_json, to_contract_json

logger = logging.getLogger(__name__)


class Command(JsonCommand):
    help = "Assess one taxpayer's credit rating for one year (case JSON) and print the result."
    internal_message = "评估时发生内部错误，请联系信息中心。"
    indent = 1
    requires_system_checks: list[str] = []  # reads no database; keep start-up lean
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("case", help="path to the case JSON file, or '-' for standard input")

    def handle(self, *args, **options) -> None:
        code = self.run(options["case"])
        if code:
            raise SystemExit(code)

    def run(self, source: str) -> int:
        return self.answer(source, CaseError, logger, lambda text: to_contract_json(assess(load_case_json(text))))
