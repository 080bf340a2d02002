from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("taxpayers/", include("taxpayers.urls")),
    path("credit/", include("credit.urls")),
    path("refund/", include("refund.urls")),
    path("notify/", include("notify.urls")),
    path("ledger/", include("ledger.urls")),
    path("risk/", include("risk.urls")),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("health/", include("config.health_urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "精简达 · 系统管理"
admin.site.site_title = "精简达"

handler404 = "accounts.views.page_not_found"
handler500 = "accounts.views.server_error"
