import json
from pathlib import Path

import pytest
from django.test import override_settings

from notify.simulator import MasSimulator

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden.json").read_text(encoding="utf-8"))
CREDENTIALS = {"ec_name": "某某市税务局", "ap_id": "swj_notice", "secret_key": "Test#2024", "sign": "AbCdEfG12"}


@pytest.fixture
def simulator():
    with MasSimulator(**CREDENTIALS) as sim:
        yield sim


@pytest.fixture
def mas_settings(simulator):
    with override_settings(
        SMS_BACKEND="mas",
        MAS_BASE_URL=simulator.base_url,
        MAS_EC_NAME=CREDENTIALS["ec_name"],
        MAS_AP_ID=CREDENTIALS["ap_id"],
        MAS_SECRET_KEY=CREDENTIALS["secret_key"],
        MAS_SIGN=CREDENTIALS["sign"],
        MAS_ADD_SERIAL="",
        MAS_TIMEOUT_SECONDS=2,
        SMS_QUIET_HOURS="",
    ):
        yield simulator
