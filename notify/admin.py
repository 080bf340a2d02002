from django import forms
from django.contrib import admin
from django.utils.html import format_html

from .models import InboxNotification, MessageTemplate, OptOut, SmsBatch, SmsMessage
from .services import SmsRejected, check_mobile, opt_out_add
from .text import display_body, mask_mobile, segment_count, unique_variables, variable_label


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Administrators edit templates here; the preview shows variables and the billed length."""

    list_display = ("code", "name", "mas_template_id", "active", "length_info")
    list_filter = ("active",)
    search_fields = ("code", "name", "body", "mas_template_id")
    readonly_fields = ("preview",)
    fields = ("code", "name", "body", "sign_text", "mas_template_id", "active", "preview")

    @admin.display(description="字数/条数")
    def length_info(self, obj):
        text = obj.body + obj.sign_text
        return f"{len(text)}字 / {segment_count(text)}条"

    @admin.display(description="预览")
    def preview(self, obj):
        if not obj.pk:
            return "保存后显示预览"
        names = unique_variables(obj.body)
        variables = "、".join(f"{variable_label(name)}（{name}）" for name in names) or "无"
        return format_html(
            "<div>{}</div><div class='help'>变量：{}；约{}字，计费{}条（70字一条，超出按每条67字）</div>",
            display_body(obj.body) + obj.sign_text, variables, len(obj.body + obj.sign_text),
            segment_count(obj.body + obj.sign_text),
        )


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "masked", "status", "attempts", "msg_group", "error_code", "created_at")
    list_filter = ("status", "template")
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    @admin.display(description="手机号码")
    def masked(self, obj):
        return mask_mobile(obj.recipient)

    def has_add_permission(self, request):
        return False


@admin.register(SmsBatch)
class SmsBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "template", "status", "total", "branch_id", "created_by", "created_at")
    list_filter = ("status", "template")
    readonly_fields = ("status", "total", "key", "created_by", "created_at")


class OptOutForm(forms.ModelForm):
    class Meta:
        model = OptOut
        fields = ("mobile", "reason")

    def clean_mobile(self):
        try:
            return check_mobile(self.cleaned_data["mobile"])
        except SmsRejected as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    """退订名单: saved through ``opt_out_add`` so the number is normalised and its queued messages cancelled."""

    form = OptOutForm
    list_display = ("masked", "reason", "created_by", "created_at")
    search_fields = ("mobile",)

    @admin.display(description="手机号码")
    def masked(self, obj):
        return mask_mobile(obj.mobile)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        entry = opt_out_add(mobile=obj.mobile, reason=obj.reason, actor=request.user)
        obj.pk, obj.created_at = entry.pk, entry.created_at


admin.site.register(InboxNotification)
