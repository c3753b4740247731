"""Registry and training runs: read by console roles; runs started by the project's managers."""
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from learner.models import ModelVersion, SamplingRun, TrainingRun
from learner.serializers import (
    ModelVersionSerializer,
    SampleNowSerializer,
    SamplingRunSerializer,
    TrainingRunSerializer,
)
from learner.services import training_run_create
from parity import access


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ModelVersionSerializer
    access_rules = {"*": access.CONSOLE}
    queryset = ModelVersion.objects.select_related("project", "language")
    filterset_fields = ["status", "backend"]


class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TrainingRunSerializer
    access_rules = {"*": access.CONSOLE, "create": access.MANAGE_PROJECT}
    queryset = TrainingRun.objects.select_related("project").prefetch_related("languages")

    def perform_create(self, serializer):
        data = serializer.validated_data
        if not self.request.user.has_perm(access.MANAGE_PROJECT, data["project"]):
            raise PermissionDenied("only an admin or a manager of this project starts its training runs")
        serializer.instance = training_run_create(
            project=data["project"], languages=data.get("languages") or None, backend=data["backend"],
            trigger="api", candidates=data.get("config", {}).get("candidates") or None,
        )


class SamplingRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Sampling rounds; POST asks for one now (it runs on a worker, then appears in the list)."""

    serializer_class = SamplingRunSerializer
    access_rules = {"*": access.CONSOLE, "create": access.MANAGE_PROJECT}
    queryset = SamplingRun.objects.select_related("project")

    @extend_schema(request=SampleNowSerializer, responses={202: None})
    def create(self, request):
        from learner.tasks import resample_pool

        payload = SampleNowSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not request.user.has_perm(access.MANAGE_PROJECT, data["project"]):
            raise PermissionDenied("only an admin or a manager of this project samples its pool")
        transaction.on_commit(lambda: resample_pool.delay(
            data["project"].pk, data["budget"], data["strategy"], data["allocation"]
        ))
        return Response(status=status.HTTP_202_ACCEPTED)
