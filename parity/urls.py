from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from annotation.api import AssignmentViewSet, ProjectViewSet
from learner.api import ModelVersionViewSet, TrainingRunViewSet

router = DefaultRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("training-runs", TrainingRunViewSet, basename="training-run")


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("healthz", healthz, name="healthz"),
]
