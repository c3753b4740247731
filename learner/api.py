"""Registry and training runs: admins only."""
from rest_framework import mixins, permissions, viewsets

from learner.models import ModelVersion, TrainingRun
from learner.serializers import ModelVersionSerializer, TrainingRunSerializer
from learner.services import training_run_create


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ModelVersionSerializer
    permission_classes = [permissions.IsAdminUser]
    queryset = ModelVersion.objects.select_related("project", "language")
    filterset_fields = ["status", "backend"]


class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TrainingRunSerializer
    permission_classes = [permissions.IsAdminUser]
    queryset = TrainingRun.objects.select_related("project").prefetch_related("languages")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = training_run_create(
            project=data["project"], languages=data.get("languages") or None, backend=data["backend"],
            trigger="api",
        )
