"""留抵退税 rules as code: pure functions over plain data, every number with its article.

Entry points: ``load_case_json`` / ``parse_case`` (contract JSON -> ``Case``),
``assess`` (``Case`` -> ``Decision``), ``CaseError`` (unusable input, with the contract's code).
See ``README.md`` here for the format and ``regimes.py`` for the table.
"""

from .assess import CONTRACT_KEYS, Decision, assess
from .errors import ERROR_CODES, CaseError
from .inputs import Case, load_case_json, parse_case

__all__ = ["CONTRACT_KEYS", "ERROR_CODES", "Case", "CaseError", "Decision", "assess", "load_case_json", "parse_case"]
