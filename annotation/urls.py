"""HTML pages of the annotation app."""
from django.urls import path

from annotation import dashboard, views

app_name = "annotation"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("console/", dashboard.console, name="console"),
    path("work/", views.workspace, name="workspace"),
    path("work/release/", views.workspace_release, name="workspace_release"),
    path("work/goal/", views.session_goal, name="session_goal"),
    path("work/assignments/<uuid:public_id>/", views.assignment_page, name="assignment"),
    path("work/assignments/<uuid:public_id>/submit/", views.assignment_submit, name="assignment_submit"),
    path("work/assignments/<uuid:public_id>/skip/", views.assignment_skip, name="assignment_skip"),
    path("work/assignments/<uuid:public_id>/flag/", views.assignment_flag, name="assignment_flag"),
    path("work/annotations/<int:pk>/undo/", views.annotation_undo, name="annotation_undo"),
    path("work/annotations/<int:pk>/", views.annotation_edit, name="annotation_edit"),
    path("work/annotations/<int:pk>/relabel/", views.annotation_relabel, name="annotation_relabel"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/items/<int:pk>/", views.review_resolve, name="review_resolve"),
    path("review/bulk-approve/", views.review_bulk_approve, name="review_bulk_approve"),
    path("console/agreement/", views.agreement_dashboard, name="agreement"),
    path("console/reports/", views.report_triage, name="report_triage"),
    path("console/reports/<int:pk>/<str:action>/", views.report_triage_action, name="report_triage_action"),
    path("report/", views.report_create, name="report_create"),
    path("report/<str:reference>/", views.report_status, name="report_status"),
]
