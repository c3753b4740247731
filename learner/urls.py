"""HTML pages of the learner app (admin console)."""
from django.urls import path

from learner import views

app_name = "learner"
urlpatterns = [
    path("console/parity/", views.parity_dashboard, name="parity"),
    path("console/health/", views.health, name="health"),
    path("console/projects/<slug:slug>/suggestions/", views.project_suggestions, name="project_suggestions"),
    path("console/runs/", views.runs, name="runs"),
    path("console/runs/status.json", views.runs_status, name="runs_status"),
    path("console/runs/retrain/", views.retrain, name="retrain"),
    path("console/models/<int:pk>/<str:action>/", views.model_action, name="model_action"),
]
