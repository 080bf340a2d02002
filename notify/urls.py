from django.urls import path

from . import views, views_batch, views_report

app_name = "notify"

urlpatterns = [
    path("mas/report/<str:token>/", views_report.mas_report, name="mas_report"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read_view, name="inbox_mark_read"),
    path("messages/", views.message_list, name="message_list"),
    path("messages/export/", views.message_export, name="message_export"),
    path("messages/resend/", views.messages_resend, name="messages_resend"),
    path("messages/<int:pk>/resend/", views.message_resend, name="message_resend"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/export/", views.batch_export, name="batch_export"),
    path("batches/new/", views_batch.batch_new, name="batch_new"),
    path("batches/new/confirm/", views_batch.batch_confirm, name="batch_confirm"),
    path("batches/new/template/", views_batch.template_info, name="template_info"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
]
