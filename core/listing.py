"""What every list page shares: pagination with the total count and sortable column headers kept in the URL."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import F
from django.http import QueryDict

from .errors import ApplicationError

DEFAULT_PAGE_SIZE = 50


class InvalidFilters(ApplicationError):
    """A list was asked for with filter values that do not validate (API: 400 with the field errors)."""

    code = "invalid_filters"

    def __init__(self, errors: dict):
        super().__init__("筛选条件不正确，请按提示修改后重试。", extra={"errors": errors})


def filtered_queryset(filterset, *, strict: bool = False):
    """``filterset.qs``; with ``strict`` an invalid filter raises ``InvalidFilters`` instead of being ignored.

    Pages are lenient (the form shows the error and the other filters still apply); the API is strict.
    """
    if strict and filterset.is_bound and not filterset.is_valid():
        raise InvalidFilters({name: [str(e) for e in errs] for name, errs in filterset.errors.items()})
    return filterset.qs


@dataclass(frozen=True)
class ListPage:
    page_obj: Page
    page_query: str  # the current query string without "page", for templates/partials/pagination.html


def paginate(request, queryset, *, per_page: int = DEFAULT_PAGE_SIZE) -> ListPage:
    """One page of ``queryset`` (out-of-range page numbers show the last page)."""
    paginator = Paginator(queryset, per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    params: QueryDict = request.GET.copy()
    params.pop("page", None)
    return ListPage(page_obj=page_obj, page_query=params.urlencode())


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str
    url: str  # query string ("?...") that sorts by this column (toggling direction if already sorted by it)
    direction: str  # "asc", "desc" or "" when the list is not sorted by this column


def sort_columns(request, columns: dict[str, str], *, param: str = "sort", default: str = "") -> dict[str, SortColumn]:
    """Header links for the sortable ``columns`` (key -> label); sorting resets to page 1. A ``sort`` naming no
    column is ignored by the lists (they fall back to ``default``), and so here."""
    current = request.GET.get(param) or default
    if current.removeprefix("-") not in columns:
        current = default
    result = {}
    for key, label in columns.items():
        if current == key:
            target, direction = f"-{key}", "asc"
        elif current == f"-{key}":
            target, direction = key, "desc"
        else:
            target, direction = key, ""
        params = request.GET.copy()
        params.pop("page", None)
        params[param] = target
        result[key] = SortColumn(key=key, label=label, url=f"?{params.urlencode()}", direction=direction)
    return result


def sort_order(
    value: str | None,
    fields: Mapping[str, Sequence],
    *,
    default: str,
    then: Sequence[str] = (),
    tiebreak: str = "pk",
    nulls_last: bool = True,
) -> list:
    """The ``order_by`` arguments for the URL's ``sort`` value when it names one of the whitelisted ``fields``
    (``key`` ascending, ``-key`` descending), else for ``default``: never an arbitrary field from the URL.

    ``fields`` maps a column key to the model fields it sorts by (names, or expressions such as ``Case``);
    descending reverses each and empty values go last either way. ``then`` orders rows the column leaves tied
    (fixed, ``-name`` for descending) and ``tiebreak`` keeps pages stable, in the column's direction.

    ``nulls_last=False`` leaves NULLs where the database puts them: for columns that are never empty, so that
    a plain index serves the descending sort too (PostgreSQL's ``DESC`` puts NULLs first)."""
    key = (value or "").removeprefix("-")
    if key not in fields:
        value, key = default, default.removeprefix("-")
    descending = (value or "").startswith("-")
    nulls = True if nulls_last else None  # Django takes True or None, not False
    order = []
    for field in fields[key]:
        expression = F(field) if isinstance(field, str) else field
        order.append(expression.desc(nulls_last=nulls) if descending else expression.asc(nulls_last=nulls))
    order.extend(then)
    order.append(f"-{tiebreak}" if descending else tiebreak)
    return order


def style_filter_form(form):
    """Give a filter form's widgets the small Bootstrap classes of the filter bar; returns the form."""
    for field in form.fields.values():
        widget = field.widget
        css = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return form


def add_service_error(form, error, *, fields: dict[str, str] | None = None) -> None:
    """A service's refusal (``ApplicationError``) on the bound form that asked for the action, so that the page
    re-rendered with that form shows it beside the field concerned and keeps what was typed.

    The field is the one the service names in ``error.extra["field"]`` (``fields`` renames the services' names to
    the form's, e.g. ``{"voucher": "voucher_number"}``); a refusal about no field of the form sits above the
    form's fields."""
    name = (error.extra or {}).get("field")
    name = (fields or {}).get(name, name)
    form.add_error(name if name in form.fields else None, error.message)


def mark_invalid(form):
    """Flag the inputs of a bound form's refused fields (Bootstrap's red border; a screen reader reads the error
    rendered after the input with the id ``<input id>_error``); returns the form."""
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}_error"
    return form


def active_filter_count(request, *, ignore: tuple[str, ...] = ("page", "sort")) -> int:
    """How many filters the URL sets (for "清除筛选" and the empty-state message)."""
    return sum(1 for key, value in request.GET.items() if key not in ignore and value)
