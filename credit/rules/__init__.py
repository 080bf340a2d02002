"""纳税信用 rules as code: both rating systems (2014年第40号 with its amendments, 2025年第12号), pure.

Typed entry points for in-process callers (the warning job, repair cases, refund screening):
``Evaluation`` in, ``assess`` → ``Assessment`` out. At the JSON boundary only (``manage.py
credit_assess``): ``load_case_json`` / ``parse_case`` and ``to_contract_json``. ``CaseError`` carries
the contract's error code. See README.md here for the choices made and the options.
"""

from .assess import CONTRACT_KEYS, Assessment, assess, to_contract_json
from .errors import ERROR_CODES, CaseError
from .inputs import DirectD, Evaluation, Event, TaxpayerFacts, load_case_json, parse_case
from .level import NOT_A_TITLES
from .options import OPTION_SPECS, Options
from .scoring import CreditWarning, EventResult

__all__ = [
    "CONTRACT_KEYS",
    "ERROR_CODES",
    "NOT_A_TITLES",
    "OPTION_SPECS",
    "Assessment",
    "CaseError",
    "CreditWarning",
    "DirectD",
    "Evaluation",
    "Event",
    "EventResult",
    "Options",
    "TaxpayerFacts",
    "assess",
    "load_case_json",
    "parse_case",
    "to_contract_json",
]
