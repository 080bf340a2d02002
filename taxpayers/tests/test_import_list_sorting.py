"""数据导入 sorted from its column headers: a sorted request orders the imports as asked, the filters keep the sort,
and a key that names no column falls back to the newest upload first."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from taxpayers.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs():
    made = {}
    for key, rows, errors, age in (("big", 900, 0, 2), ("bad", 30, 12, 1), ("small", 5, 0, 3)):
        job = ImportJob.objects.create(
            kind=ImportJob.Kind.TAXPAYERS,
            status=ImportJob.Status.FAILED if errors else ImportJob.Status.SUCCEEDED,
            original_name=f"{key}.xlsx",
            sha256=key,
            total_rows=rows,
            error_count=errors,
        )
        ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(days=age))
        made[key] = job.pk
    return made


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["bad", "big", "small"]),
        ("created", ["small", "big", "bad"]),
        ("-total", ["big", "bad", "small"]),
        ("total", ["small", "bad", "big"]),
        ("-errors", ["bad", "small", "big"]),
        ("sha256", ["bad", "big", "small"]),
        ("-errors;drop", ["bad", "big", "small"]),
    ],
)
def test_the_import_list_sorts_by_a_column(client_for, jobs, sort, expected):
    response = client_for("refund_officer").get(reverse("taxpayers:import_list"), {"sort": sort})
    assert [job.pk for job in response.context["page_obj"]] == [jobs[key] for key in expected]


def test_the_import_list_keeps_its_sort_in_the_filters_and_pages(client_for, jobs):
    response = client_for("refund_officer").get(
        reverse("taxpayers:import_list"), {"sort": "-total", "kind": "taxpayers"}
    )
    assert '<input type="hidden" name="sort" value="-total">' in response.content.decode()
    assert response.context["page_query"] == "sort=-total&kind=taxpayers"
    assert response.context["columns"]["total"].direction == "desc"
