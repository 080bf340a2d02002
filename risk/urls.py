from django.urls import path

from . import views
from .tasks import views as task_views

app_name = "risk"

urlpatterns = [
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<str:code>/", views.indicator_detail, name="indicator"),
    path("grade-rules/", views.grade_rules, name="grade_rules"),
    path("tasks/", task_views.task_list, name="tasks"),
    path("tasks/export/", task_views.task_export, name="task_export"),
    path("tasks/new/", task_views.task_new, name="task_new"),
    path("tasks/import/", task_views.task_import, name="task_import"),
    path("tasks/push-down/", task_views.task_push_down, name="task_push_down"),
    path("tasks/<int:pk>/", task_views.task_detail, name="task"),
    path("tasks/<int:pk>/files/", task_views.task_file_upload, name="task_file_upload"),
    path("tasks/<int:pk>/files/<int:file_pk>/download/", task_views.task_file_download, name="task_file_download"),
    path("tasks/<int:pk>/<str:action>/", task_views.task_act, name="task_act"),
]
