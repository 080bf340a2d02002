"""申报期限: administrators enter a year's published filing-deadline table (or a regional override) in one form.

Needs ``taxpayers.change_filingdeadline`` (信息中心). Months without a stored row use the rule in
``taxpayers.calendar``; the page shows which.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import ApplicationError

from . import calendar as filing_calendar
from .calendar_services import filing_table_save
from .models import FilingDeadline

CHANGE_PERMISSION = "taxpayers.change_filingdeadline"
MONTHS = range(1, 13)


def _month_field(month: int) -> str:
    return f"m{month:02d}"


class FilingTableForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    region = forms.CharField(
        label="地区代码", max_length=12, required=False, help_text="留空表示全国表；地方调整填写地区代码（如 4400）"
    )
    source_document = forms.CharField(label="文件依据", max_length=100, help_text="如 税总办征科函〔2025〕64号")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for month in MONTHS:
            self.fields[_month_field(month)] = forms.DateField(
                label=f"{month}月", required=False, widget=forms.DateInput(attrs={"type": "date"})
            )

    def head_fields(self):
        return [self["year"], self["region"], self["source_document"]]

    def month_fields(self):
        return [self[_month_field(month)] for month in MONTHS]

    def clean(self):
        cleaned = super().clean()
        year, region = cleaned.get("year"), (cleaned.get("region") or "").strip()
        cleaned["region"] = region
        if year is None:
            return cleaned
        deadlines = {}
        for month in MONTHS:
            value = cleaned.get(_month_field(month))
            if value is None:
                if not region and not self.errors.get(_month_field(month)):
                    self.add_error(_month_field(month), "全国表须填写全部 12 个月。")
                continue
            if (value.year, value.month) != (year, month):
                self.add_error(_month_field(month), f"应为 {year}年{month}月内的日期。")
            deadlines[month] = value
        if region and not deadlines and not self.errors:
            raise forms.ValidationError("地方调整至少填写一个月。")
        cleaned["deadlines"] = deadlines
        return cleaned


def _initial(year: int, region: str) -> dict:
    initial: dict = {"year": year, "region": region}
    for row in FilingDeadline.objects.filter(year=year, region=region):
        initial[_month_field(row.month)] = row.deadline
        initial["source_document"] = row.source_document
    return initial


def _preview(year: int, region: str) -> list[dict]:
    """What the system will use for each month of ``year`` (stored table or rule), or why it cannot."""
    rows = []
    for month in MONTHS:
        try:
            deadline, source = filing_calendar.deadline_for(year, month, region)
            rows.append({"month": f"{year}-{month:02d}", "deadline": deadline, "source": source, "error": ""})
        except filing_calendar.CalendarUnavailable as exc:
            rows.append({"month": f"{year}-{month:02d}", "deadline": None, "source": "", "error": exc.message})
    return rows


@login_required
@permission_required(CHANGE_PERMISSION, raise_exception=True)
def filing_deadline_edit(request):
    try:
        year = int(request.GET.get("year") or date.today().year)
    except ValueError:
        year = date.today().year
    year = min(max(year, 2000), 2100)
    region = (request.GET.get("region") or "").strip()[:12]
    if request.method == "POST":
        form = FilingTableForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                changed = filing_table_save(
                    actor=request.user,
                    year=data["year"],
                    region=data["region"],
                    source_document=data["source_document"],
                    deadlines=data["deadlines"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已保存 {data['year']} 年申报期限，{changed} 个月有变化。")
                query = f"?year={data['year']}" + (f"&region={data['region']}" if data["region"] else "")
                return redirect(reverse("taxpayers:filing_deadlines") + query)
        year, region = form.cleaned_data.get("year") or year, form.cleaned_data.get("region", region)
    else:
        form = FilingTableForm(initial=_initial(year, region))
    stored = (
        FilingDeadline.objects.values_list("year", "region").order_by("-year", "region").distinct()
    )
    return render(
        request,
        "taxpayers/filing_deadlines.html",
        {"form": form, "year": year, "region": region, "preview": _preview(year, region), "stored": stored},
    )
