from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("grade-rules/", views.grade_rules, name="grade_rules"),
]
