from django.urls import path

from . import import_views, views

app_name = "taxpayers"

urlpatterns = [
    path("", views.taxpayer_list, name="list"),
    path("<str:identifier>/", views.taxpayer_detail, name="detail"),
    path("imports/", import_views.import_list, name="import_list"),
]
