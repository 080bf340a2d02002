from django.urls import path

from . import scan_views, views
from .consultations import views as consultations
from .sampling import views as sampling
from .tasks import views as task_views

app_name = "risk"

urlpatterns = [
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("grade-rules/", views.grade_rules, name="grade_rules"),
    path("scans/", scan_views.scan_list, name="scans"),
    path("scans/start/", scan_views.scan_start, name="scan_start"),
    path("scans/<int:pk>/", scan_views.scan_detail, name="scan"),
    path("scans/<int:pk>/export/", scan_views.scan_export, name="scan_export"),
    path("tasks/", task_views.task_list, name="tasks"),
    path("tasks/export/", task_views.task_export, name="task_export"),
    path("tasks/new/", task_views.task_new, name="task_new"),
    path("tasks/import/", task_views.task_import, name="task_import"),
    path("tasks/push-down/", task_views.task_push_down, name="task_push_down"),
    path("tasks/<int:pk>/", task_views.task_detail, name="task"),
    path("tasks/<int:pk>/files/", task_views.task_file_upload, name="task_file_upload"),
    path("tasks/<int:pk>/files/<int:file_pk>/download/", task_views.task_file_download, name="task_file_download"),
    path("tasks/<int:pk>/<str:action>/", task_views.task_act, name="task_act"),
    # 事后复核: the monthly samples of the refunds paid, and their parameters.
    path("reviews/", sampling.sample_list, name="reviews"),
    path("reviews/draw/", sampling.sample_draw, name="review_draw"),
    path("reviews/<str:period>/", sampling.sample_detail, name="review"),
    path("reviews/<str:period>/export/", sampling.sample_export, name="review_export"),
    path("review-parameters/", sampling.sample_parameters, name="review_parameters"),
    path("consultations/", consultations.consultation_list, name="consultations"),
    path("consultations/export/", consultations.consultation_export, name="consultation_export"),
    path("consultations/open/<int:application_pk>/", consultations.consultation_open, name="consultation_open"),
    path("consultations/<int:pk>/", consultations.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/opinion/", consultations.consultation_opinion, name="consultation_opinion"),
    path("consultations/<int:pk>/invite/", consultations.consultation_participants, name="consultation_invite"),
    path("consultations/<int:pk>/decide/", consultations.consultation_decide, name="consultation_decide"),
]
