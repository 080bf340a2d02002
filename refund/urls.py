"""The refund app's URLs: the screening pages, the candidate lists, the 信用修复提示 and the applications (namespace
``refund``)."""

from django.urls import path

from .applications import batch_views as application_batch_views
from .applications import sign_off_views
from .applications import views as application_views
from .candidates import views as candidate_views
from .repair_notices import views as repair_notice_views
from .screening import views

app_name = "refund"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/results/", views.run_results, name="run_results"),
    path("runs/<int:pk>/results/export.xlsx", views.run_export, name="run_export"),
    path("runs/<int:pk>/taxpayers/<int:taxpayer_id>/", views.run_explain, name="run_explain"),
    path("taxpayers/<int:taxpayer_id>/", views.taxpayer_explain, name="taxpayer_explain"),
    path("taxpayers/<int:taxpayer_id>/what-if/", views.what_if, name="what_if"),
    # 候选名单 (issue 5)
    path("candidates/", candidate_views.candidate_lists, name="candidate_lists"),
    path("candidates/build/", candidate_views.candidate_build, name="candidate_build"),
    path("candidates/mine/", candidate_views.my_candidates, name="my_candidates"),
    path("candidates/mine/export.xlsx", candidate_views.my_candidates_export, name="my_candidates_export"),
    path("candidates/upper/", candidate_views.upper_list_import, name="upper_list_import"),
    path("candidates/<int:pk>/", candidate_views.candidate_list_detail, name="candidate_list_detail"),
    path("candidates/<int:pk>/export.xlsx", candidate_views.candidate_list_export, name="candidate_list_export"),
    path("candidates/<int:pk>/remind/", candidate_views.candidate_remind, name="candidate_remind"),
    path("candidates/<int:pk>/push/", candidate_views.candidate_adhoc_push, name="candidate_adhoc_push"),
    path("candidates/items/<int:pk>/", candidate_views.candidate_item, name="candidate_item"),
    path("candidates/items/<int:pk>/verify/", candidate_views.candidate_item_verify, name="candidate_item_verify"),
    path("candidates/items/<int:pk>/decline/", candidate_views.candidate_item_decline, name="candidate_item_decline"),
    path("candidates/items/<int:pk>/reopen/", candidate_views.candidate_item_reopen, name="candidate_item_reopen"),
    path("candidates/items/<int:pk>/coaching/", candidate_views.candidate_item_coach, name="candidate_item_coach"),
    # 信用修复提示 (refund → credit)
    path("repair-notices/", repair_notice_views.repair_notices, name="repair_notices"),
    path("repair-notices/export.xlsx", repair_notice_views.repair_notices_export, name="repair_notices_export"),
    path("repair-notices/build/", repair_notice_views.repair_notices_build, name="repair_notices_build"),
    path("repair-notices/send/", repair_notice_views.repair_notices_send, name="repair_notices_send"),
    # 留抵退税申请 (issue 6)
    path("applications/", application_views.application_queue, name="application_queue"),
    path("applications/mine/", application_views.my_applications, name="my_applications"),
    path("applications/export.xlsx", application_views.application_queue_export, name="application_queue_export"),
    path("applications/batch/", application_batch_views.application_batch, name="application_batch"),
    path("applications/sign-off/", sign_off_views.sign_off_page, name="sign_off"),
    path("applications/new/", application_views.application_new, name="application_new"),
    path("applications/import/", application_views.application_import, name="application_import"),
    path("applications/<int:pk>/", application_views.application_detail, name="application_detail"),
    path(
        "applications/<int:pk>/coaching/", application_views.application_coaching_add, name="application_coaching_add"
    ),
    path("applications/<int:pk>/<slug:action>/", application_views.application_action, name="application_action"),
]
