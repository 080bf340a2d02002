from django.urls import path

from . import views

app_name = "credit"

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/<str:kind>/", views.import_upload, name="import_upload"),
    path("imports/<str:kind>/template.xlsx", views.import_template, name="import_template"),
    path("ratings/", views.rating_list, name="ratings"),
    path("events/", views.event_list, name="events"),
    # By record id: a full identifier never appears in a URL.
    path("taxpayers/<int:pk>/", views.taxpayer_credit, name="taxpayer"),
]
