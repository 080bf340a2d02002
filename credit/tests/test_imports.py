"""The ratings, events and flags imports: all or nothing, every row error, idempotent re-imports."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from credit.models import CreditImport, CreditRating, DishonestyEvent, RatingBasis
from credit.services import CreditImportRejected, credit_file_import
from credit.signals import ratings_imported
from taxpayers.models import Taxpayer
from taxpayers.tests.factories import TaxpayerFactory

from .helpers import xlsx_upload

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 30)
RATING_HEADER = ["纳税人识别号", "评价年度", "信用级别", "评价得分", "生效日期", "评价方式", "备注"]
EVENT_HEADER = [
    "纳税人识别号",
    "指标代码",
    "记录日期",
    "税（费）种",
    "所属期",
    "涉及税（费）款",
    "纠正日期",
    "首违不罚",
]


def _import(kind, rows, **kwargs):
    return credit_file_import(actor=None, kind=kind, file=xlsx_upload(rows), today=TODAY, **kwargs)


def _rejected(kind, rows) -> list[tuple[int, str, str]]:
    with pytest.raises(CreditImportRejected) as caught:
        _import(kind, rows)
    return [(e.row, e.column, e.reason) for e in caught.value.errors]


@pytest.fixture
def two():
    return TaxpayerFactory(), TaxpayerFactory()


def test_ratings_import_creates_the_history_with_its_source(two):
    a, b = two
    record = _import(
        "ratings",
        [
            RATING_HEADER,
            [a.identifier, 2024, "A", 95, "2025-04-20", "", ""],
            [a.identifier, 2025, "C", 65.5, "2026-04-18", "评价", ""],
            [a.identifier, 2025, "B", 80.3, "2026-05-30", "修复", "修复后"],
            [b.identifier, 2025, "D", None, "2026-04-18", "", "直接判级"],
        ],
    )
    assert (record.kind, record.total_rows, record.created_count, record.updated_count) == ("ratings", 4, 4, 0)
    repaired = CreditRating.objects.get(taxpayer=a, year=2025, basis=RatingBasis.REPAIRED)
    assert (repaired.level, repaired.score, repaired.evaluated_on) == ("B", Decimal("80.30"), dt.date(2026, 5, 30))
    assert repaired.rule_set == "2025" and repaired.source_import == record
    assert CreditRating.objects.get(taxpayer=a, year=2024).rule_set == "2014"
    direct_d = CreditRating.objects.get(taxpayer=b)
    assert direct_d.score is None and direct_d.note == "直接判级"
    event = AuditEvent.objects.get(verb="import", object_type="credit.creditimport")
    assert event.changes["created"] == 4 and event.changes["kind"] == "ratings"


def test_reimporting_the_same_ratings_changes_nothing_and_a_corrected_row_updates(two):
    a, _ = two
    rows = [RATING_HEADER, [a.identifier, 2025, "B", 85, "2026-04-18", "", ""]]
    _import("ratings", rows)
    first = CreditRating.objects.get(taxpayer=a, year=2025)
    again = _import("ratings", rows)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 1)
    assert CreditRating.objects.filter(taxpayer=a, year=2025).count() == 1
    assert CreditRating.objects.get(pk=first.pk).updated_at == first.updated_at
    corrected = _import("ratings", [RATING_HEADER, [a.identifier, 2025, "B", 86, "2026-04-18", "", ""]])
    assert (corrected.created_count, corrected.updated_count) == (0, 1)
    assert CreditRating.objects.get(pk=first.pk).score == Decimal("86.00")


def test_every_rating_row_error_is_listed_and_nothing_is_written(two):
    a, b = two
    errors = _rejected(
        "ratings",
        [
            RATING_HEADER,
            [a.identifier, 2024, "A", 95, "2025-04-20", "", ""],  # good, yet not written
            ["91330106MA00000019", 2025, "B", 80, "2026-04-18", "", ""],  # bad check character
            ["91330106MA0000099X", 2025, "B", 80, "2026-04-18", "", ""],  # bad check character too
            [b.identifier, 2026, "B", 80, "2026-04-18", "", ""],  # year not over
            [b.identifier, 2024, "E", 80, "2025-04-18", "", ""],  # no such level
            [b.identifier, 2023, "A", 85, "2024-04-18", "", ""],  # A below 90
            [b.identifier, 2022, "C", 75, "2023-04-18", "", ""],  # C at 70 or more
            [b.identifier, 2021, "B", 101, "2022-04-18", "", ""],  # score over 100
            [b.identifier, 2020, "B", 80, "2020-12-31", "", ""],  # effective inside its own year
            [b.identifier, 2019, "B", 80, "2027-01-01", "", ""],  # in the future
            [b.identifier, 2018, "B", 80, "2019-04-18", "表扬", ""],  # no such basis
            [a.identifier, 2024, "A", 96, "2025-04-20", "", ""],  # repeats row 2's key
            [b.identifier, None, "B", 80, "2019-04-18", "", ""],  # required cell empty
        ],
    )
    by_row = {row: reason for row, _, reason in errors}
    assert set(by_row) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
    assert by_row[5] == "应在 2014 到 2025 之间。"
    assert "A、B、M、C、D" in by_row[6]
    assert "不能低于 90" in by_row[7]
    assert "低于 70" in by_row[8]
    assert "0 到 100" in by_row[9]
    assert "结束之后" in by_row[10]
    assert "将来" in by_row[11]
    assert "评价方式" in by_row[12]
    assert "与第 2 行" in by_row[13]
    assert by_row[14] == "必填项不能为空。"
    assert CreditRating.objects.count() == 0 and CreditImport.objects.count() == 0


def test_an_unknown_taxpayer_is_refused(two):
    from taxpayers.tests.factories import make_uscc

    unknown = make_uscc(987654)
    errors = _rejected("ratings", [RATING_HEADER, [unknown, 2025, "B", 80, "2026-04-18", "", ""]])
    assert errors == [
        (2, "纳税人识别号", f"纳税人识别号“{unknown}”在系统中不存在，请核对，或先导入该纳税人的登记信息。")
    ]


def test_a_file_without_a_required_column_is_refused_whole(two):
    a, _ = two
    errors = _rejected("ratings", [["纳税人识别号", "评价年度", "评价得分"], [a.identifier, 2025, 80]])
    assert {column for _, column, _ in errors} == {"信用级别", "生效日期"}


def test_events_import_reads_codes_names_and_flags_and_is_idempotent(two):
    a, b = two
    rows = [
        EVENT_HEADER,
        [a.identifier, "010101", "2026-04-16", "增值税", "2026-03", 1500, "2026-04-20", "是"],
        [a.identifier, "未按规定期限填报财务报表", "2026-05-01", "", "", None, None, ""],
        [b.identifier, "010501", "2026-02-01", "", "", None, "2026-03-15", "否"],
        [b.identifier, "010501", "2026-02-01", "企业所得税", "", None, None, ""],  # another tax: another event
    ]
    record = _import("events", rows)
    assert record.created_count == 4
    late = DishonestyEvent.objects.get(taxpayer=a, indicator="010101")
    assert (late.amount, late.corrected_on, late.no_penalty, str(late.period)) == (
        Decimal("1500.00"),
        dt.date(2026, 4, 20),
        True,
        "2026-03",
    )
    statements = DishonestyEvent.objects.get(taxpayer=a, indicator="010103")
    assert statements.is_open and statements.tax == "" and statements.source == "imported"
    assert statements.indicator_label == "未按规定期限填报财务报表"
    again = _import("events", rows)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 4)
    assert DishonestyEvent.objects.count() == 4
    rows[2][6] = "2026-05-09"  # the statements were filed since
    corrected = _import("events", rows)
    assert (corrected.updated_count, corrected.unchanged_count) == (1, 3)
    assert DishonestyEvent.objects.get(taxpayer=a, indicator="010103").corrected_on == dt.date(2026, 5, 9)


def test_every_event_row_error_is_listed_and_nothing_is_written(two):
    a, _ = two
    errors = _rejected(
        "events",
        [
            EVENT_HEADER,
            [a.identifier, "010101", "2026-04-16", "增值税", "2026-03", 1500, "", ""],
            [a.identifier, "1010", "2026-04-16", "", "", None, "", ""],  # not a code
            [a.identifier, 10103, "2026-04-16", "", "", None, "", ""],  # leading zero lost
            [a.identifier, "010103", "2026-04-16", "", "2026-13", None, "", ""],  # no such month
            [a.identifier, "010103", "2026-04-17", "", "", -5, "", ""],  # negative amount
            [a.identifier, "010103", "2026-04-18", "", "", None, "2026-04-01", ""],  # corrected before recorded
            [a.identifier, "010103", "2026-04-19", "", "", None, "", "也许"],  # not 是/否
            [a.identifier, "010101", "2026-04-16", "增值税", "2026-03", 1500, "", ""],  # repeats row 2
        ],
    )
    by_row = {row: reason for row, _, reason in errors}
    assert set(by_row) == {3, 4, 5, 6, 7, 8, 9}
    assert "6 位数字" in by_row[3]
    assert "开头 0" in by_row[4]
    assert "负数" in by_row[6]
    assert "早于记录日期" in by_row[7]
    assert "是" in by_row[8]
    assert "与第 2 行" in by_row[9]
    assert DishonestyEvent.objects.count() == 0


def test_flags_import_sets_both_flags_and_a_missing_column_keeps_its_flag(two):
    a, b = two
    record = _import(
        "flags",
        [["纳税人识别号", "专精特新企业", "创新型中小企业"], [a.identifier, "是", "否"], [b.identifier, "", "是"]],
    )
    assert (record.updated_count, record.unchanged_count) == (2, 0)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.is_specialized_sme, a.is_innovative_sme, b.is_specialized_sme, b.is_innovative_sme) == (
        True,
        False,
        False,
        True,
    )
    only_innovative = _import("flags", [["纳税人识别号", "创新型中小企业"], [a.identifier, "是"]])
    assert only_innovative.updated_count == 1
    a.refresh_from_db()
    assert a.is_specialized_sme and a.is_innovative_sme
    again = _import("flags", [["纳税人识别号", "创新型中小企业"], [a.identifier, "是"]])
    assert (again.updated_count, again.unchanged_count) == (0, 1)


def test_flags_import_needs_a_flag_column_and_refuses_bad_cells(two):
    a, b = two
    errors = _rejected("flags", [["纳税人识别号", "备注"], [a.identifier, "x"]])
    assert "至少应有" in errors[0][2]
    errors = _rejected("flags", [["纳税人识别号", "专精特新企业"], [a.identifier, "是"], [b.identifier, "也许"]])
    assert [(row, column) for row, column, _ in errors] == [(3, "专精特新企业")]
    assert not Taxpayer.objects.filter(is_specialized_sme=True).exists()


def test_a_ratings_import_tells_the_apps_above_after_commit_and_other_imports_do_not(
    two, django_capture_on_commit_callbacks
):
    a, _ = two
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs["import_id"])

    ratings_imported.connect(receiver, dispatch_uid="test_ratings_imported")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            record = _import("ratings", [RATING_HEADER, [a.identifier, 2025, "C", 65, "2026-04-18", "", ""]])
        assert heard == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert heard == [record.pk]
        with django_capture_on_commit_callbacks(execute=True):
            _import("events", [EVENT_HEADER, [a.identifier, "010101", "2025-08-16", "增值税", "", 5000, "", ""]])
        assert heard == [record.pk]
    finally:
        ratings_imported.disconnect(dispatch_uid="test_ratings_imported")
