from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.xlsx", views.audit_export, name="audit_export"),
]
