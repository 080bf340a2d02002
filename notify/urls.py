from django.urls import path

from . import views, views_report

app_name = "notify"

urlpatterns = [
    path("mas/report/<str:token>/", views_report.mas_report, name="mas_report"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read_view, name="inbox_mark_read"),
    path("messages/", views.message_list, name="message_list"),
    path("messages/export/", views.message_export, name="message_export"),
    path("messages/<int:pk>/resend/", views.message_resend, name="message_resend"),
    path("batches/", views.batch_list, name="batch_list"),
]
