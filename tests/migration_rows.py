"""The rows the data migrations write, written again after a flush.

A transactional test (or a module fixture that commits) ends with a flush that removes them. A single process
runs those tests last, but a pytest-xdist worker may run one before tests that read the rows, so whatever
flushes calls ``restore_migration_rows`` afterwards. Every seed is a get_or_create.
"""

import importlib

from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission

from accounts.roles import sync_role_groups

MIGRATION_SEEDS = (
    ("taxpayers.migrations.0003_seed_filing_deadlines", "seed"),
    ("ledger.migrations.0004_bill_template", "seed_bill_template"),
    ("ledger.migrations.0008_clawbacks", "seed_clawback_bill_template"),
    ("refund.migrations.0005_candidate_permissions", "seed_reminder_template"),
    ("refund.migrations.0005_candidate_permissions", "create_settings_row"),
    ("refund.migrations.0011_repair_notice_permissions", "seed_repair_notice_template"),
    ("refund.migrations.0012_sign_off", "seed_threshold"),
    ("credit.migrations.0004_warnings", "seed_warning_templates"),
)


def restore_migration_rows() -> None:
    for module, function in MIGRATION_SEEDS:
        getattr(importlib.import_module(module), function)(django_apps, None)
    sync_role_groups(group_model=Group, permission_model=Permission)
