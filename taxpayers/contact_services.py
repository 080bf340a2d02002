"""Showing a taxpayer's full identifier and phone numbers: a sensitive read, audited like a write."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.audit import record_event

from .models import Taxpayer

CONTACTS_PERMISSION = "taxpayers.view_taxpayer_contacts"


@dataclass(frozen=True)
class TaxpayerContacts:
    identifier: str
    legal_rep_name: str
    legal_rep_mobile: str
    finance_contact_name: str
    finance_contact_mobile: str
    tax_handler_name: str
    tax_handler_mobile: str


def taxpayer_contacts_reveal(*, actor, taxpayer: Taxpayer) -> TaxpayerContacts:
    """The unmasked identifier and phones of ``taxpayer`` (already fetched through the scoping gateway),
    with an audit event ``view_contacts`` recording who saw them."""
    if not actor.has_perm(CONTACTS_PERMISSION):
        raise PermissionDenied("no permission to view taxpayer contacts")
    with transaction.atomic():
        record_event(
            actor=actor,
            verb="view_contacts",
            target=taxpayer,
            summary="查看完整纳税人识别号与联系电话",
        )
    return TaxpayerContacts(
        identifier=taxpayer.identifier,
        legal_rep_name=taxpayer.legal_rep_name,
        legal_rep_mobile=taxpayer.legal_rep_mobile,
        finance_contact_name=taxpayer.finance_contact_name,
        finance_contact_mobile=taxpayer.finance_contact_mobile,
        tax_handler_name=taxpayer.tax_handler_name,
        tax_handler_mobile=taxpayer.tax_handler_mobile,
    )
