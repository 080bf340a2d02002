from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UsernameField
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from .models import AuditEvent, Branch, PasswordResetRequest, RoleGrantRequest, User

# Powers are granted only in the product (系统管理 → 用户与岗位), under the two-person rule and audited
# (accounts/services.py); here they are shown, never changed. So are passwords: whoever sets one can sign in as
# its holder, so a reset is a grant of that user's powers and lives under the same rule.
POWER_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")
PASSWORD_FIELDS = ("password_note", "must_change_password")
ADD_NOTE = (
    "新建的账户没有可用的密码，也没有岗位。保存后请到本系统“系统管理 → 用户与岗位”中为其重置密码"
    "（生成临时密码，首次登录须修改）并授予岗位：两者都受双人确认规则约束，并记入审计日志。"
)


class UserAddForm(forms.ModelForm):
    """The admin site's add form: an account with no usable password and no powers. Its first password comes from
    重置密码 in the product (audited, to be changed at the first sign-in), never from whoever creates it."""

    class Meta:
        model = User
        fields = ("username", "full_name", "branch", "mobile")
        field_classes = {"username": UsernameField}

    def clean_username(self):
        """As Django's creation form: no second account whose name differs only in case."""
        username = self.cleaned_data.get("username")
        if username and User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("该用户名已被使用。")
        return username

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


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
        (None, {"fields": ("username", *PASSWORD_FIELDS)}),
        *BaseUserAdmin.fieldsets[1:],
        ("岗位与机构", {"fields": ("full_name", "branch", "mobile")}),
    )
    # On the change form and the add form alike: a POST naming them changes nothing.
    readonly_fields = (*POWER_FIELDS, *PASSWORD_FIELDS)
    add_form = UserAddForm
    add_form_template = None  # Django's speaks of the password fields this form no longer has
    add_fieldsets = ((None, {"fields": ("username", "full_name", "branch", "mobile"), "description": ADD_NOTE}),)

    @admin.display(description="密码")
    def password_note(self, obj):
        state = "已设置" if obj.has_usable_password() else "未设置"
        return format_html(
            '{}。后台管理不能设置密码：请在本系统<a href="{}#password">用户与岗位</a>中重置。',
            state,
            reverse("accounts:user_detail", args=[obj.pk]),
        )

    def user_change_password(self, request, id, form_url=""):
        """Django's 修改密码 page of the admin site, refused for everyone (module comment)."""
        raise PermissionDenied("passwords are reset in the product, under the two-person rule")


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


# The detail page of a request of the two-person rule: the user it is about first, then the fields both kinds share
# (the abstract base would put them first).
SECOND_PERSON_FIELDS = ("reason", "requested_by", "status", "decided_by", "decided_at", "decision_note")


@admin.register(RoleGrantRequest)
class RoleGrantRequestAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: requests are made, confirmed and rejected in the product (岗位授权确认)."""

    list_display = ("requested_at", "user", "role", "requested_by", "status", "decided_by", "decided_at")
    list_filter = ("status", "role")
    fields = ("user", "role", *SECOND_PERSON_FIELDS)


@admin.register(PasswordResetRequest)
class PasswordResetRequestAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: resets are asked for, confirmed and rejected in the product (岗位授权确认)."""

    list_display = ("requested_at", "user", "requested_by", "status", "decided_by", "decided_at")
    list_filter = ("status",)
    fields = ("user", *SECOND_PERSON_FIELDS)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: audit rows are written by services, never edited."""

    list_display = ("created_at", "actor", "verb", "object_type", "object_repr", "request_id")
    list_filter = ("verb", "object_type")
    search_fields = ("object_repr", "request_id", "actor__username")
