"""信用预警 on PostgreSQL: the daily predictions against ``credit.rules.assess``, their idempotence and bounded
queries, the graded lists' contents, order and scoping, the warning SMS never repeated for one behaviour, the
export's audit event and the pages on data."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from credit.models import CreditContact, CreditPrediction, CreditRating, DishonestyEvent
from credit.rules import Evaluation, Event, TaxpayerFacts, assess
from credit.warnings import selectors, services
from notify.models import SmsMessage
from taxpayers.tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)
RATED_ON = dt.date(2026, 4, 18)


def _rated(branch, level, score, **fields):
    taxpayer = TaxpayerFactory(branch=branch, **fields)
    CreditRating.objects.create(
        taxpayer=taxpayer, year=2025, level=level, score=score, evaluated_on=RATED_ON, rule_set="2025"
    )
    return taxpayer


def _event(taxpayer, indicator, recorded_on, corrected_on=None, tax=""):
    return DishonestyEvent.objects.create(
        taxpayer=taxpayer, indicator=indicator, recorded_on=recorded_on, corrected_on=corrected_on, tax=tax
    )


@pytest.fixture
def county(org):
    """Six taxpayers rated for 2025, with the 2026 behaviours that make each list."""
    a, b = org["branch_a"], org["branch_b"]
    t = {
        "a_risk": _rated(a, "A", Decimal("95")),
        "b_risk": _rated(b, "B", Decimal("82"), legal_rep_mobile="13900000001"),
        "b_safe": _rated(a, "B", Decimal("85")),
        "c_plain": _rated(a, "C", Decimal("60"), size="large"),
        "d_sme": _rated(a, "D", Decimal("35"), is_specialized_sme=True, size="small"),
        "c_key": _rated(a, "C", Decimal("65"), is_key_taxpayer=True, size="micro"),
    }
    _event(t["a_risk"], "010101", dt.date(2026, 5, 16), tax="增值税")
    _event(t["a_risk"], "010103", dt.date(2026, 5, 1))
    for day in range(1, 9):  # eight late financial statements: 24 points, a B that becomes C
        _event(t["b_risk"], "010103", dt.date(2026, 5, day))
    _event(t["b_safe"], "010103", dt.date(2026, 3, 2), corrected_on=dt.date(2026, 3, 10))
    for key in ("c_plain", "d_sme", "c_key"):
        _event(t[key], "010103", dt.date(2026, 6, 1))
    _event(t["c_plain"], "010103", dt.date(2025, 12, 1))  # last year's: not in the 2026 prediction
    return t


def _expected(taxpayer):
    rating = CreditRating.objects.get(taxpayer=taxpayer)
    events = tuple(
        Event(e.indicator, e.recorded_on, e.tax or None, e.amount, e.corrected_on, e.no_penalty)
        for e in DishonestyEvent.objects.filter(taxpayer=taxpayer, recorded_on__year=2026).order_by("recorded_on", "pk")
    )
    previous_d = ("score" if rating.score is not None else "direct") if rating.level == "D" else None
    return assess(
        Evaluation(
            year=2026,
            as_of=TODAY,
            taxpayer=TaxpayerFacts(previous_level=rating.level, previous_d_kind=previous_d),
            events=events,
        )
    )


def test_the_job_predicts_what_the_rules_assess(county):
    run = services.credit_predictions_refresh(today=TODAY)
    assert run.year == 2026 and run.predicted == 6 and run.failed == 0
    for taxpayer in county.values():
        prediction = CreditPrediction.objects.get(taxpayer=taxpayer, year=2026)
        expected = _expected(taxpayer)
        assert (prediction.score, prediction.level) == (expected.score, expected.level)
        assert prediction.score_if_repaired == expected.score_if_all_repaired_now
        assert prediction.level_if_repaired == expected.level_if_all_repaired_now
        assert [Decimal(w["points"]) for w in prediction.warnings] == [w.points_at_stake for w in expected.warnings]
        deadlines = [w.deadline for w in expected.warnings if w.deadline]
        assert prediction.deadline == (min(deadlines) if deadlines else None)
        assert prediction.current_level == CreditRating.objects.get(taxpayer=taxpayer).level
    a_risk = CreditPrediction.objects.get(taxpayer=county["a_risk"])
    assert a_risk.level == "B" and a_risk.points_at_stake > 0 and a_risk.open_events == 2
    assert all(w["event_id"] for w in a_risk.warnings)
    assert CreditPrediction.objects.get(taxpayer=county["b_risk"]).level == "C"


def _state():
    return {
        p.taxpayer_id: (p.pk, p.score, p.level, p.warnings, p.deadline, p.computed_at)
        for p in CreditPrediction.objects.all()
    }


def test_running_twice_gives_the_same_rows(county):
    services.credit_predictions_refresh(today=TODAY)
    first = _state()
    _event(county["b_safe"], "010103", dt.date(2026, 6, 2))  # a new behaviour moves that one prediction only
    run = services.credit_predictions_refresh(today=TODAY)
    second = _state()
    assert (run.predicted, run.written) == (6, 1)
    assert first.keys() == second.keys() and CreditPrediction.objects.count() == 6
    changed = {pk for pk in first if first[pk] != second[pk]}
    assert changed == {county["b_safe"].pk}  # the others not even written again (their computed_at stays)
    assert first[county["b_safe"].pk][0] == second[county["b_safe"].pk][0]  # updated in place
    assert first[county["b_safe"].pk][5] < second[county["b_safe"].pk][5]


def test_the_job_runs_a_bounded_number_of_statements(county, org):
    with CaptureQueriesContext(connection) as few:
        services.credit_predictions_refresh(today=TODAY)
    for _ in range(20):
        taxpayer = _rated(org["branch_b"], "B", Decimal("80"))
        _event(taxpayer, "010103", dt.date(2026, 5, 3))
    with CaptureQueriesContext(connection) as many:
        services.credit_predictions_refresh(today=TODAY)
    assert len(many) == len(few)


def _rows():
    return {
        p.taxpayer_id: (
            p.score,
            p.level,
            p.score_if_repaired,
            p.level_if_repaired,
            p.points_at_stake,
            p.deadline,
            p.open_events,
            p.current_level,
            p.warnings,
        )
        for p in CreditPrediction.objects.all()
    }


def test_chunks_and_shared_assessments_change_no_row(county, org):
    """Chunk boundaries anywhere give the same rows; a taxpayer with the same inputs as another shares its
    assessment but names its own events; a deregistered taxpayer between two others gets no row."""
    twin = _rated(org["branch_b"], "D", Decimal("35"))
    _event(twin, "010103", dt.date(2026, 6, 1))
    gone = _rated(org["branch_a"], "B", Decimal("80"), status="deregistered")
    _event(gone, "010103", dt.date(2026, 5, 3))
    last = _rated(org["branch_a"], "A", Decimal("92"))
    services.credit_predictions_refresh(today=TODAY)
    whole = _rows()
    assert gone.pk not in whole and last.pk in whole and len(whole) == 8
    for chunk in (1, 2, 3):
        CreditPrediction.objects.all().delete()
        run = services.credit_predictions_refresh(today=TODAY, chunk=chunk)
        assert run.predicted == 8 and _rows() == whole
    d_sme, d_twin = whole[county["d_sme"].pk], whole[twin.pk]
    assert d_sme[:8] == d_twin[:8] and len(d_twin[8]) == 1
    assert d_twin[8][0]["event_id"] == DishonestyEvent.objects.get(taxpayer=twin).pk != d_sme[8][0]["event_id"]


def test_the_daily_job_derives_late_returns_first(county):
    run = services.credit_warnings_daily(today=TODAY)
    assert run.predicted == 6


def test_the_lists_hold_and_order_the_right_taxpayers(county, personas):
    services.credit_predictions_refresh(today=TODAY)
    user = personas["credit_officer"]
    at_risk = [p.taxpayer for p in selectors.warning_list(user=user, kind="at_risk")]
    assert set(at_risk) == {county["a_risk"], county["b_risk"]}
    points = [p.points_at_stake for p in selectors.warning_list(user=user, kind="at_risk")]
    assert points == sorted(points, reverse=True)
    follow = [p.taxpayer for p in selectors.warning_list(user=user, kind="follow")]
    assert follow == [county["c_key"], county["d_sme"], county["c_plain"]]
    repairable = selectors.warning_list(user=user, kind="repairable")
    assert county["b_safe"] not in [p.taxpayer for p in repairable]
    assert all(p.points_at_stake > 0 for p in repairable)
    only_a = selectors.warning_list(user=user, kind="at_risk", filters={"current": "A"})
    assert [p.taxpayer for p in only_a] == [county["a_risk"]]
    counts = selectors.warning_counts(user=user)
    assert counts.at_risk == 2 and counts.follow == 3 and counts.current["A"] == 1 and counts.predicted["C"] >= 1


def test_the_lists_are_scoped_to_the_users_branches(county, personas):
    services.credit_predictions_refresh(today=TODAY)
    at_risk = [p.taxpayer for p in selectors.warning_list(user=personas["officer_a"], kind="at_risk")]
    assert at_risk == [county["a_risk"]]
    assert not selectors.warning_list(user=personas["officer_b"], kind="follow").exists()


def test_a_behaviour_is_never_texted_twice(county, personas):
    services.credit_predictions_refresh(today=TODAY)
    user = personas["credit_officer"]

    def send():
        predictions = list(selectors.warning_list(user=user, kind="at_risk", filters={"current": "A"}))
        return services.credit_warning_sms_send(actor=user, predictions=predictions)

    assert send().enqueued == 1
    assert send().enqueued == 1  # the second open behaviour, not the first again
    third = send()
    assert third.enqueued == 0 and third.skipped == 1
    keys = list(SmsMessage.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 2 and len(set(keys)) == 2
    contacts = CreditContact.objects.filter(taxpayer=county["a_risk"], kind="sms")
    assert contacts.count() == 2 and len({c.event_id for c in contacts}) == 2
    first = SmsMessage.objects.order_by("pk").first()
    assert first.template.code == "credit_warning_ab" and county["a_risk"].name in first.text
    assert AuditEvent.objects.filter(verb="credit_warning_sms").count() == 2


def test_c_and_d_taxpayers_get_the_repair_template(county, personas):
    services.credit_predictions_refresh(today=TODAY)
    user = personas["credit_officer"]
    predictions = list(selectors.warning_list(user=user, kind="follow"))
    outcome = services.credit_warning_sms_send(actor=user, predictions=predictions)
    assert outcome.enqueued == 3
    assert set(SmsMessage.objects.values_list("template__code", flat=True)) == {"credit_warning_cd"}


def test_the_export_is_audited_and_masked(county, client_for):
    services.credit_predictions_refresh(today=TODAY)
    response = client_for("credit_officer").get(reverse("credit:warning_export", args=["at_risk"]) + "?current=A")
    assert response.status_code == 200
    sheet = load_workbook(
        io.BytesIO(b"".join(response.streaming_content if response.streaming else [response.content]))
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "纳税人识别号" and len(rows) == 2
    assert rows[1][1] == county["a_risk"].name and rows[1][0] != county["a_risk"].identifier
    event = AuditEvent.objects.get(verb="export", object_type="credit.creditprediction")
    assert "current=A" in event.summary and "1 条" in event.summary


def test_the_pages_render_on_data(county, client_for):
    services.credit_predictions_refresh(today=TODAY)
    client = client_for("credit_officer")
    page = client.get(reverse("credit:warning_list", args=["at_risk"])).content.decode()
    assert county["a_risk"].name in page and county["b_risk"].name in page and county["c_key"].name not in page
    assert county["a_risk"].identifier not in page and "13800138000" not in page
    confirm = client.get(reverse("credit:warning_sms", args=["at_risk"])).content.decode()
    assert 'id="sendable">2<' in confirm
    home = client.get(reverse("home")).content.decode()
    assert 'id="at-risk-count">2<' in home
    detail = client.get(reverse("credit:taxpayer", args=[county["a_risk"].pk])).content.decode()
    assert 'id="prediction"' in detail and 'id="contact-form"' in detail
    response = client.post(
        reverse("credit:contact_add", args=[county["a_risk"].pk]),
        {"kind": "call", "outcome": "will_correct", "note": "承诺月底前申报"},
    )
    assert response.status_code == 302
    contact = CreditContact.objects.get(taxpayer=county["a_risk"])
    assert contact.kind == "call" and contact.officer.username == "credit_officer"
    assert "承诺月底前申报" in client.get(reverse("credit:taxpayer", args=[county["a_risk"].pk])).content.decode()
    supervisor = client_for("supervisor").get(reverse("credit:taxpayer", args=[county["a_risk"].pk])).content.decode()
    assert 'id="prediction"' in supervisor and 'id="contact-form"' not in supervisor


def test_a_taxpayer_without_a_mobile_is_recorded_as_not_sent(county, personas):
    county["c_key"].legal_rep_mobile = ""
    county["c_key"].tax_handler_mobile = ""
    county["c_key"].save()
    services.credit_predictions_refresh(today=TODAY)
    user = personas["credit_officer"]
    predictions = list(selectors.warning_list(user=user, kind="follow"))
    assert selectors.sms_preview(predictions).unreachable == 1
    outcome = services.credit_warning_sms_send(actor=user, predictions=predictions)
    assert (outcome.enqueued, outcome.unreachable) == (2, 1)
    contact = CreditContact.objects.get(taxpayer=county["c_key"])
    assert contact.outcome == "not_sent" and contact.sms is None and "手机号码" in contact.note


def test_a_d_reached_through_a_related_firm_is_not_predicted_kept(org):
    """Last year's direct D with a related-D record (040104) that year is not kept by the 2025 rules; a direct D
    without one is (2025 第三十四条（四）)."""
    related = _rated(org["branch_a"], "D", None)
    _event(related, "040104", dt.date(2025, 3, 1))
    direct = _rated(org["branch_a"], "D", None)
    services.credit_predictions_refresh(today=TODAY)
    predicted = {p.taxpayer_id: p.level for p in CreditPrediction.objects.filter(year=2026)}
    assert predicted[direct.pk] == "D" and predicted[related.pk] != "D"
