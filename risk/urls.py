from django.urls import path

from . import views
from .consultations import views as consultations

app_name = "risk"

urlpatterns = [
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("grade-rules/", views.grade_rules, name="grade_rules"),
    path("consultations/", consultations.consultation_list, name="consultations"),
    path("consultations/export/", consultations.consultation_export, name="consultation_export"),
    path("consultations/open/<int:application_pk>/", consultations.consultation_open, name="consultation_open"),
    path("consultations/<int:pk>/", consultations.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/opinion/", consultations.consultation_opinion, name="consultation_opinion"),
    path("consultations/<int:pk>/invite/", consultations.consultation_participants, name="consultation_invite"),
    path("consultations/<int:pk>/decide/", consultations.consultation_decide, name="consultation_decide"),
]
