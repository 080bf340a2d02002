from django.urls import path

from . import views
from .repairs import views as repair_views

app_name = "credit"

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/<str:kind>/", views.import_upload, name="import_upload"),
    path("imports/<str:kind>/template.xlsx", views.import_template, name="import_template"),
    path("ratings/", views.rating_list, name="ratings"),
    path("events/", views.event_list, name="events"),
    # By record id: a full identifier never appears in a URL.
    path("taxpayers/<int:pk>/", views.taxpayer_credit, name="taxpayer"),
    path("taxpayers/<int:pk>/cases/new/", repair_views.case_new, name="case_new"),
    path("cases/", repair_views.case_list, name="cases"),
    path("cases/<int:pk>/", repair_views.case_detail, name="case"),
    path("cases/<int:pk>/decide/", repair_views.case_decide, name="case_decide"),
    path("cases/<int:pk>/<str:action>/", repair_views.case_act, name="case_act"),
]
