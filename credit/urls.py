from django.urls import path

from . import views
from .banktax import views as banktax_views
from .repairs import views as repair_views
from .warnings import views as warning_views

app_name = "credit"

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/<str:kind>/", views.import_upload, name="import_upload"),
    path("imports/<str:kind>/template.xlsx", views.import_template, name="import_template"),
    path("ratings/", views.rating_list, name="ratings"),
    path("events/", views.event_list, name="events"),
    # By record id: a full identifier never appears in a URL.
    path("taxpayers/<int:pk>/", views.taxpayer_credit, name="taxpayer"),
    # 信用预警: the graded lists (at_risk, follow, repairable), their export and batch SMS; calls and visits.
    path("warnings/", warning_views.warning_list, {"kind": "at_risk"}, name="warnings"),
    path("warnings/<str:kind>/", warning_views.warning_list, name="warning_list"),
    path("warnings/<str:kind>/export.xlsx", warning_views.warning_export, name="warning_export"),
    path("warnings/<str:kind>/sms/", warning_views.warning_sms, name="warning_sms"),
    path("taxpayers/<int:pk>/contacts/", warning_views.contact_add, name="contact_add"),
    path("taxpayers/<int:pk>/cases/new/", repair_views.case_new, name="case_new"),
    path("cases/", repair_views.case_list, name="cases"),
    path("cases/<int:pk>/", repair_views.case_detail, name="case"),
    path("cases/<int:pk>/decide/", repair_views.case_decide, name="case_decide"),
    path("cases/<int:pk>/<str:action>/", repair_views.case_act, name="case_act"),
    # 银税互动: the promotion list (internal), its audited working-list export, a taxpayer's outreach and loans.
    path("banktax/", banktax_views.promotion_list, name="banktax"),
    path("banktax/export.xlsx", banktax_views.promotion_export, name="banktax_export"),
    path("banktax/loans/", banktax_views.loan_list, name="banktax_loans"),
    path("banktax/taxpayers/<int:pk>/", banktax_views.taxpayer_banktax, name="banktax_taxpayer"),
    path("banktax/taxpayers/<int:pk>/outreach/", banktax_views.outreach_add, name="banktax_outreach_add"),
    path("banktax/taxpayers/<int:pk>/loans/", banktax_views.loan_add, name="banktax_loan_add"),
]
