from django.urls import path

from . import scan_views, views

app_name = "risk"

urlpatterns = [
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("grade-rules/", views.grade_rules, name="grade_rules"),
    path("scans/", scan_views.scan_list, name="scans"),
    path("scans/start/", scan_views.scan_start, name="scan_start"),
    path("scans/<int:pk>/", scan_views.scan_detail, name="scan"),
    path("scans/<int:pk>/export/", scan_views.scan_export, name="scan_export"),
]
