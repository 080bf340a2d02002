"""留抵退税 rules as code: pure functions over plain data, every number with its article.

Entry points: ``load_case_json`` / ``parse_case`` (contract JSON -> ``Case``), ``case_to_json`` (``Case`` ->
contract JSON), ``validated_case`` (a ``Case`` built in process, checked as its JSON would be), ``assess``
(``Case`` -> ``Decision``), ``CaseError`` (unusable input, with the contract's code).
See ``README.md`` here for the format and ``regimes.py`` for the table.
"""

from .assess import CONTRACT_KEYS, Decision, assess
from .case_json import case_to_json, load_case_json, parse_case
from .errors import ERROR_CODES, CaseError
from .inputs import Case, validated_case

__all__ = [
    "CONTRACT_KEYS",
    "ERROR_CODES",
    "Case",
    "CaseError",
    "Decision",
    "assess",
    "case_to_json",
    "load_case_json",
    "parse_case",
    "validated_case",
]
