from django.contrib import admin

from .models import ComplianceRecord, CreditLevel, FilingDeadline, ImportJob, Taxpayer, VatReturn
from .ratings import LEVEL, with_latest_rating


class CreditLevelFilter(admin.SimpleListFilter):
    """The level of the latest rating (a read of the credit history, not a column)."""

    title = "纳税信用级别"
    parameter_name = LEVEL

    def lookups(self, request, model_admin):
        return [*CreditLevel.choices, ("none", "未评价")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(**{LEVEL: ""})
        if value in CreditLevel.values:
            return queryset.filter(**{LEVEL: value})
        return queryset


@admin.register(Taxpayer)
class TaxpayerAdmin(admin.ModelAdmin):
    list_display = ("identifier", "name", "branch", "industry_code", "credit_level", "status")
    list_filter = ("branch", CreditLevelFilter, "status", "filing_frequency")
    search_fields = ("identifier", "name")
    list_select_related = ("branch",)

    def get_queryset(self, request):
        return with_latest_rating(super().get_queryset(request))

    @admin.display(description="纳税信用级别", ordering=LEVEL)
    def credit_level(self, obj) -> str:
        return getattr(obj, LEVEL, "") or "未评价"


@admin.register(VatReturn)
class VatReturnAdmin(admin.ModelAdmin):
    list_display = ("taxpayer", "period", "sales_total", "end_credit")
    search_fields = ("taxpayer__identifier", "taxpayer__name", "period")
    raw_id_fields = ("taxpayer",)


@admin.register(ComplianceRecord)
class ComplianceRecordAdmin(admin.ModelAdmin):
    list_display = ("taxpayer", "kind", "occurred_on", "document_number")
    list_filter = ("kind",)
    raw_id_fields = ("taxpayer",)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "original_name", "status", "created_by")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(FilingDeadline)
class FilingDeadlineAdmin(admin.ModelAdmin):
    list_display = ("year", "month", "region", "deadline", "source_document", "entered_by", "updated_at")
    list_filter = ("year", "region")
    readonly_fields = ("entered_by", "updated_at")

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)
