from django.urls import path

from . import candidate_views, views

app_name = "refund"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/results/", views.run_results, name="run_results"),
    path("runs/<int:pk>/results/export.xlsx", views.run_export, name="run_export"),
    path("runs/<int:pk>/taxpayers/<str:identifier>/", views.run_explain, name="run_explain"),
    path("taxpayers/<str:identifier>/", views.taxpayer_explain, name="taxpayer_explain"),
    path("taxpayers/<str:identifier>/what-if/", views.what_if, name="what_if"),
    # 候选名单 (issue 5)
    path("candidates/", candidate_views.candidate_lists, name="candidate_lists"),
    path("candidates/build/", candidate_views.candidate_build, name="candidate_build"),
    path("candidates/mine/", candidate_views.my_candidates, name="my_candidates"),
    path("candidates/mine/export.xlsx", candidate_views.my_candidates_export, name="my_candidates_export"),
    path("candidates/upper/", candidate_views.upper_list_import, name="upper_list_import"),
    path("candidates/<int:pk>/", candidate_views.candidate_list_detail, name="candidate_list_detail"),
    path("candidates/<int:pk>/export.xlsx", candidate_views.candidate_list_export, name="candidate_list_export"),
    path("candidates/<int:pk>/remind/", candidate_views.candidate_remind, name="candidate_remind"),
    path("candidates/items/<int:pk>/", candidate_views.candidate_item, name="candidate_item"),
    path("candidates/items/<int:pk>/verify/", candidate_views.candidate_item_verify, name="candidate_item_verify"),
    path("candidates/items/<int:pk>/decline/", candidate_views.candidate_item_decline, name="candidate_item_decline"),
    path("candidates/items/<int:pk>/reopen/", candidate_views.candidate_item_reopen, name="candidate_item_reopen"),
    path("candidates/items/<int:pk>/coaching/", candidate_views.candidate_item_coach, name="candidate_item_coach"),
]
