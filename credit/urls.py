from django.urls import path

from . import views
from .warnings import views as warning_views

app_name = "credit"

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/<str:kind>/", views.import_upload, name="import_upload"),
    path("imports/<str:kind>/template.xlsx", views.import_template, name="import_template"),
    path("ratings/", views.rating_list, name="ratings"),
    path("events/", views.event_list, name="events"),
    # By record id: a full identifier never appears in a URL.
    path("taxpayers/<int:pk>/", views.taxpayer_credit, name="taxpayer"),
    # 信用预警: the graded lists (at_risk, follow, repairable), their export and batch SMS; calls and visits.
    path("warnings/", warning_views.warning_list, {"kind": "at_risk"}, name="warnings"),
    path("warnings/<str:kind>/", warning_views.warning_list, name="warning_list"),
    path("warnings/<str:kind>/export.xlsx", warning_views.warning_export, name="warning_export"),
    path("warnings/<str:kind>/sms/", warning_views.warning_sms, name="warning_sms"),
    path("taxpayers/<int:pk>/contacts/", warning_views.contact_add, name="contact_add"),
]
