"""Registry and training runs: read by console roles; runs started by the project's managers."""
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from learner.models import ModelVersion, SamplingRun, TrainingRun
from learner.serializers import (
    ModelVersionSerializer,
    SampleNowSerializer,
    SamplingRunSerializer,
    SuggestionsSettingSerializer,
    TrainingRunSerializer,
)
from learner.services import project_suggestions_set, training_run_create
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


class ProjectSuggestionsView(APIView):
    """``POST /api/projects/<slug>/suggestions/``: turn the project's model suggestions on or off."""

    access_rules = {"*": access.MANAGE_PROJECT}  # on the project named in the path

    @extend_schema(
        request=SuggestionsSettingSerializer, responses={200: SuggestionsSettingSerializer},
        summary="Turn a project's model suggestions on or off",
        description="With `show` true, evaluators and reviewers of the project see the champion model's top "
        "label and its confidence (off by default: a suggestion anchors judgements). Logged in the project's "
        "admin history; `changed` is false when the project already had that setting.")
    def post(self, request, slug: str):
        from annotation.models import Project

        project = get_object_or_404(Project.objects.filter(access.visible_projects_scope(request.user)).distinct(),
                                    slug=slug)
        self.check_object_permissions(request, project)
        payload = SuggestionsSettingSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changed = project_suggestions_set(project=project, show=payload.validated_data["show"], actor=request.user)
        return Response({"project": project.slug, "show": project.show_suggestions, "changed": changed})
