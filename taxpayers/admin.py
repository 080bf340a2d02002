from django.contrib import admin

from .models import ComplianceRecord, FilingDeadline, ImportJob, Taxpayer, VatReturn


@admin.register(Taxpayer)
class TaxpayerAdmin(admin.ModelAdmin):
    list_display = ("identifier", "name", "branch", "industry_code", "credit_level", "status")
    list_filter = ("branch", "credit_level", "status", "filing_frequency")
    search_fields = ("identifier", "name")


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
