from django.urls import path
from rest_framework.routers import DefaultRouter

from learner.api import ModelVersionViewSet, ProjectSuggestionsView, SamplingRunViewSet, TrainingRunViewSet

router = DefaultRouter()
router.include_root_view = False  # the annotation app's router serves /api/
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("training-runs", TrainingRunViewSet, basename="training-run")
router.register("sampling-runs", SamplingRunViewSet, basename="sampling-run")
urlpatterns = [
    path("projects/<slug:slug>/suggestions/", ProjectSuggestionsView.as_view(), name="project-suggestions"),
    *router.urls,
]
