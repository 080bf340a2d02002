from django.urls import path

from . import clawback_views, views

app_name = "ledger"

urlpatterns = [
    path("", views.entries, name="entries"),
    path("export.xlsx", views.entries_export, name="entries_export"),
    path("refunded.xlsx", views.refunded_export, name="refunded_export"),
    path("entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("unpaid/", views.unpaid, name="unpaid"),
    path("unpaid.xlsx", views.unpaid_export, name="unpaid_export"),
    path("unpaid/<int:pk>/pay/", views.payment_create, name="payment_create"),
    path("import/", views.payment_import, name="payment_import"),
    path("import/sample.xlsx", views.payment_import_sample, name="payment_import_sample"),
    path("runs/", views.runs, name="runs"),
    path("runs/register/", views.run_register, name="run_register"),
    path("clawbacks/", clawback_views.clawback_list, name="clawbacks"),
    path("clawbacks.xlsx", clawback_views.clawback_export, name="clawbacks_export"),
    path("clawbacks/new/<int:pk>/", clawback_views.clawback_create, name="clawback_create"),
]
