import structlog
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.utils import timezone
from django.views import defaults
from django.views.decorators.http import require_GET
from rest_framework.exceptions import NotFound

from core.listing import active_filter_count, paginate, sort_columns, style_filter_form

from .api_auth import SignInRateThrottle
from .audit_labels import change_rows, object_type_label, verb_label
from .exports import audited_xlsx_export
from .forms import OwnPasswordChangeForm
from .home_blocks import home_blocks
from .request_context import current
from .selectors import AUDIT_COLUMNS, AUDIT_SORT, audit_event_filterset, audit_events_for_user
from .services import user_password_change

logger = structlog.get_logger(__name__)


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。请注意区分大小写；连续失败 %(limit)s 次将被暂时锁定。",
        "inactive": "该账户已停用，请联系信息中心。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        from django.conf import settings

        self.error_messages = {
            **self.error_messages,
            "invalid_login": self.error_messages["invalid_login"] % {"limit": settings.AXES_FAILURE_LIMIT},
        }


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        throttle = SignInRateThrottle()
        if not throttle.allow_request(request, self):
            wait = int(throttle.wait() or 60) + 1
            # No authentication attempt while throttled: the form is shown again, empty, with the reason.
            context = self.get_context_data(form=self.authentication_form(request))
            context["throttled"] = f"登录尝试过于频繁，请 {wait} 秒后再试。"
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    """修改密码, for every signed-in user; the only page open while a temporary password must be replaced
    (``PasswordChangeRequiredMiddleware``). Django's view checks the form; ``user_password_change`` writes."""

    template_name = "accounts/password_change.html"
    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        user = user_password_change(actor=self.request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, user)  # this session stays; the user's others end
        messages.success(self.request, "密码已修改，请牢记新密码、不要告诉他人。接口令牌已作废，如需使用请重新获取。")
        return redirect(self.get_success_url())


def page_not_found(request, exception):
    """The 404 page; under /api/ the API's JSON ``{"detail": …}`` (an address the API does not have, such as an
    identifier of the wrong form), as its schema documents, not an HTML page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": str(NotFound.default_detail)}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    """The 500 page in the app's frame, with the request id that the logs carry.

    The error may have come from the database or a context processor, so a page without the user's
    menu is rendered when the full one cannot be."""
    context = {"request_id": current().request_id}
    try:
        body = loader.render_to_string("500.html", context, request=request)
    except Exception:
        logger.exception("error_page_render_failed")
        body = loader.render_to_string("500.html", context)
    return HttpResponseServerError(body)


@login_required
def home(request):
    """工作台: the signed-in officer's starting page: the blocks the apps contribute, then the menu's tiles."""
    return render(request, "accounts/home.html", {"home_blocks": home_blocks(request)})


# --- 审计日志 (supervisors and admins) -----------------------------------------------------------

AUDIT_EXPORT_HEADERS = (
    "时间",
    "操作人",
    "操作",
    "对象类型",
    "对象编号",
    "对象",
    "摘要",
    "变更字段",
    "请求编号",
    "IP 地址",
)


def _changes_text(event) -> str:
    def show(v):
        return "—" if v is None or v == "" else str(v)

    rows = change_rows(event.object_type, event.changes)
    return "；".join(f"{label}：{show(before)} → {show(after)}" for label, before, after in rows)


@login_required
@permission_required("accounts.view_auditevent", raise_exception=True)
@require_GET
def audit_list(request):
    """审计日志: who changed or looked at what, with the fields' before → after."""
    filterset = audit_event_filterset(user=request.user, filters=request.GET)
    listing = paginate(request, filterset.qs)
    for event in listing.page_obj.object_list:
        event.change_rows = change_rows(event.object_type, event.changes)
        event.verb_label = verb_label(event.verb)
        event.object_type_label = object_type_label(event.object_type)
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "form": style_filter_form(filterset.form),
        "page_obj": listing.page_obj,
        "page_query": listing.page_query,
        "columns": sort_columns(request, AUDIT_COLUMNS, default=AUDIT_SORT),
        "active_filters": active_filter_count(request),
        "export_query": export_query.urlencode(),
    }
    return render(request, "accounts/audit_list.html", context)


@login_required
@permission_required("accounts.view_auditevent", raise_exception=True)
@require_GET
def audit_export(request):
    """The audit events the filters show, as xlsx; exporting the log is itself audited."""
    events = audit_events_for_user(user=request.user, filters=request.GET)
    rows = (
        (
            timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            f"{e.actor.full_name or e.actor.username}（{e.actor.username}）" if e.actor else "系统",
            verb_label(e.verb),
            object_type_label(e.object_type),
            e.object_id,
            e.object_repr,
            e.summary,
            _changes_text(e),
            e.request_id,
            e.ip_address or "",
        )
        for e in events.iterator(chunk_size=2000)
    )
    return audited_xlsx_export(
        request, title="审计日志", object_type="accounts.auditevent", headers=AUDIT_EXPORT_HEADERS, rows=rows
    )
