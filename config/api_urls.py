"""The REST API under /api/ (schema and docs are wired in config/urls.py)."""

from django.urls import path, re_path

from accounts.api import ApiTokenView
from refund.applications import api as refund_api
from taxpayers import api as taxpayers_api

app_name = "api"


urlpatterns = [
    # POST username + password -> {"token": ..., "expires_at": ...}; send it as "Authorization: Token <token>".
    path("token/", ApiTokenView.as_view(), name="token"),
    re_path(r"^taxpayers/$", taxpayers_api.TaxpayerListApi.as_view(), name="taxpayer-list"),
    # By record id, as the list's ``id`` and ``url`` give it: a full identifier never travels in a URL.
    path("taxpayers/<int:id>/", taxpayers_api.TaxpayerDetailApi.as_view(), name="taxpayer-detail"),
    path("taxpayers/<int:id>/returns/", taxpayers_api.TaxpayerReturnsApi.as_view(), name="taxpayer-returns"),
    re_path(r"^refund/applications/$", refund_api.ApplicationListCreateApi.as_view(), name="refund-application-list"),
    path("refund/applications/<int:pk>/", refund_api.ApplicationDetailApi.as_view(), name="refund-application-detail"),
]
