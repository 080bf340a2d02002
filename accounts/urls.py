from django.urls import path

from . import role_views, views

app_name = "accounts"
GRANTS, RESETS = {"table": role_views.GRANTS}, {"table": role_views.RESETS}  # the two tables of 岗位授权确认

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.xlsx", views.audit_export, name="audit_export"),
    # 用户与岗位 and the role grants of the two-person rule (岗位授权确认)
    path("users/", role_views.user_list, name="user_list"),
    path("users/<int:pk>/", role_views.user_detail, name="user_detail"),
    path("role-requests/", role_views.role_requests, name="role_requests"),
    path("role-requests/<int:pk>/approve/", role_views.role_request_approve, name="role_request_approve"),
    path("role-requests/<int:pk>/reject/", role_views.request_reject, GRANTS, name="role_request_reject"),
    path("role-requests/<int:pk>/withdraw/", role_views.request_withdraw, GRANTS, name="role_request_withdraw"),
    # 重置密码 under the same rule: asked on the user page, confirmed beside the role grants
    path("users/<int:pk>/password-reset/", role_views.user_password_reset, name="user_password_reset"),
    path("password-resets/<int:pk>/approve/", role_views.password_reset_approve, name="password_reset_approve"),
    path("password-resets/<int:pk>/reject/", role_views.request_reject, RESETS, name="password_reset_reject"),
    path("password-resets/<int:pk>/withdraw/", role_views.request_withdraw, RESETS, name="password_reset_withdraw"),
]
