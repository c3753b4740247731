"""Thin API views: validate, call a service or selector, serialise."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from annotation.models import Assignment, Project
from annotation.serializers import AnnotationSerializer, AssignmentSerializer, ProjectSerializer, SubmitSerializer
from annotation.services import annotation_submit, assignment_next


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer
    lookup_field = "slug"

    def get_queryset(self):
        user = self.request.user
        projects = Project.objects.prefetch_related("labels", "languages").order_by("id")
        if user.is_staff:
            return projects
        return projects.filter(pools__memberships__user=user).distinct()


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AssignmentSerializer

    def get_queryset(self):
        # Scoped to the requesting evaluator: another user's assignment is a 404.
        return (
            Assignment.objects.filter(evaluator=self.request.user)
            .select_related("item__language", "item__project")
            .order_by("-leased_at", "-id")
        )

    @extend_schema(request=None, responses={200: AssignmentSerializer, 204: None})
    @action(detail=False, methods=["post"])
    def next(self, request):
        assignment = assignment_next(evaluator=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AssignmentSerializer(assignment).data)

    @extend_schema(request=SubmitSerializer, responses={201: AnnotationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        assignment = get_object_or_404(self.get_queryset(), pk=pk)
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            annotation = annotation_submit(evaluator=request.user, assignment_id=assignment.pk, **payload.validated_data)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc
        return Response(AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)
