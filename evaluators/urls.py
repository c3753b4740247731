"""HTML pages of the evaluators app (the dashboard and the console front page combine annotations:
they are annotation.dashboard's, same URLs)."""
from django.urls import path

from evaluators import views
from parity import access

app_name = "evaluators"
urlpatterns = [
    path("accounts/login/", access.declare(access.PUBLIC)(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", access.declare(access.PUBLIC)(views.LogoutView.as_view()), name="logout"),
    path("guidelines/<slug:slug>/", views.guideline_detail, name="guideline"),
    path("calibration/<int:pool_id>/", views.calibration, name="calibration"),
    path("calibration/attempts/<int:attempt_id>/result/", views.calibration_result, name="calibration_result"),
    path("console/guidelines/", views.console_guidelines, name="console_guidelines"),
    path("console/guidelines/<slug:slug>/", views.console_guideline_edit, name="console_guideline_edit"),
    path("console/guidelines/<slug:slug>/diff/", views.console_guideline_diff, name="console_guideline_diff"),
]
