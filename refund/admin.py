"""Admin site for the refund app: the 候选名单 settings (信息中心); lists are snapshots, read-only here."""

from django.contrib import admin

from .models import CandidateSettings


@admin.register(CandidateSettings)
class CandidateSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "auto_remind", "updated_at")

    def has_add_permission(self, request):
        return not CandidateSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False
