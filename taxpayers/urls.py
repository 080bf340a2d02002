from django.urls import path

from . import calendar_views, import_views, views

app_name = "taxpayers"

urlpatterns = [
    path("", views.taxpayer_list, name="list"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/upload/", import_views.import_upload, name="import_upload"),
    path("imports/templates/<str:kind>.xlsx", import_views.import_template_download, name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors.xlsx", import_views.import_errors_download, name="import_errors_download"),
    path("imports/<int:pk>/file/", import_views.import_file_download, name="import_file_download"),
    path("export.xlsx", views.taxpayer_export, name="export"),
    path("filing-deadlines/", calendar_views.filing_deadline_edit, name="filing_deadlines"),
    # By record id: a full identifier never appears in a URL (access logs, history, links to harvest).
    path("<int:pk>/", views.taxpayer_detail, name="detail"),
    path("<int:pk>/contacts/", views.taxpayer_reveal_contacts, name="reveal_contacts"),
]
