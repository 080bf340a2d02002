"""待退库: the period filter says why a bad period is not applied."""

import pytest
from django.urls import reverse

from ledger.models import LedgerEntry
from ledger.tests.factories import approved_application
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db
UNPAID = reverse("ledger:unpaid")


def test_a_bad_period_says_why_and_does_not_empty_the_list(client_for, org):
    march = approved_application(TaxpayerFactory(branch=org["branch_a"], name="三月公司"))
    approved_application(TaxpayerFactory(branch=org["branch_a"], name="二月公司"), period="2026-02")
    client = client_for("refund_officer")
    response = client.get(UNPAID, {"period": "2026-13"})
    assert response.status_code == 200
    assert "申请所属期：“2026-13”不是有效的所属期" in response.content.decode()
    assert response.context["page_obj"].paginator.count == 2
    assert [a.pk for a in client.get(UNPAID, {"period": "2026-03"}).context["page_obj"]] == [march.pk]
    assert LedgerEntry.objects.count() == 0

