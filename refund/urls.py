from django.urls import path

from . import views

app_name = "refund"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/results/", views.run_results, name="run_results"),
    path("runs/<int:pk>/results/export.xlsx", views.run_export, name="run_export"),
    path("runs/<int:pk>/taxpayers/<str:identifier>/", views.run_explain, name="run_explain"),
    path("taxpayers/<str:identifier>/", views.taxpayer_explain, name="taxpayer_explain"),
    path("taxpayers/<str:identifier>/what-if/", views.what_if, name="what_if"),
]
