from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group

from .models import AuditEvent, Branch, RoleGrantRequest, User

# Powers are granted only in the product (系统管理 → 用户与岗位), under the two-person rule and audited
# (accounts/services.py); here they are shown, never changed.
POWER_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "sort_order")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "branch", "is_active", "last_login")
    list_filter = ("is_active", "groups", "branch")
    search_fields = ("username", "full_name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("岗位与机构", {"fields": ("full_name", "branch", "mobile")}),
    )
    # On the change form and the add form alike: a POST naming them changes nothing.
    readonly_fields = POWER_FIELDS


admin.site.unregister(Group)


class ReadOnlyAdmin:
    """Rows the admin site may show but never add, change or delete: the product's services own them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin, BaseGroupAdmin):
    """Read-only: a role's permissions come from accounts/roles.py through the migrations, never from here."""


@admin.register(RoleGrantRequest)
class RoleGrantRequestAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: requests are made, confirmed and rejected in the product (岗位授权确认)."""

    list_display = ("requested_at", "user", "role", "requested_by", "status", "decided_by", "decided_at")
    list_filter = ("status", "role")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: audit rows are written by services, never edited."""

    list_display = ("created_at", "actor", "verb", "object_type", "object_repr", "request_id")
    list_filter = ("verb", "object_type")
    search_fields = ("object_repr", "request_id", "actor__username")
