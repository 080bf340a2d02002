"""纳税信用 models, one module per part of the service; every model is importable from ``credit.models``."""

from .banktax import BankTaxLoan, BankTaxOutreach
from .records import CreditImport, CreditRating, DishonestyEvent, RatingBasis, RuleSet, indicator_label
from .repairs import CreditCase, CreditCaseItem, CreditCaseTransition, NonNormalSpell
from .warnings import CreditContact, CreditPrediction

__all__ = [
    "BankTaxLoan",
    "BankTaxOutreach",
    "CreditCase",
    "CreditCaseItem",
    "CreditCaseTransition",
    "CreditContact",
    "CreditImport",
    "CreditPrediction",
    "CreditRating",
    "DishonestyEvent",
    "NonNormalSpell",
    "RatingBasis",
    "RuleSet",
    "indicator_label",
]
