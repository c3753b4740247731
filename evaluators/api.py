"""Thin API views: validate, call a service or selector, serialise. Every queryset is scoped to the
requesting user; another user's objects are a 404."""
from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not a 500
from rest_framework.response import Response

from evaluators import selectors, services
from evaluators.models import CalibrationAttempt, PoolMembership
from evaluators.serializers import (
    AcknowledgementSerializer,
    CalibrationAttemptSerializer,
    CalibrationResultSerializer,
    CalibrationStartSerializer,
    CalibrationSubmitSerializer,
    GuidelineSerializer,
    InviteSerializer,
    ManagedMembershipSerializer,
    MyMembershipSerializer,
    PoolSerializer,
    ReasonSerializer,
)
from parity import access


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "not allowed now"
    default_code = "conflict"


@contextmanager
def service_errors():
    """Django's exceptions from services become the matching API errors."""
    try:
        yield
    except services.CalibrationNotAllowed as exc:
        detail = {"detail": str(exc.args[0]) if exc.args else "not allowed"}
        if exc.retry_at is not None:
            detail["retry_at"] = exc.retry_at.isoformat()
        if exc.exhausted:
            detail["gold_bank_exhausted"] = True
        raise Conflict(detail) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except DjangoValidationError as exc:
        raise ValidationError({"detail": exc.messages}) from exc
    except ObjectDoesNotExist as exc:
        raise Http404(str(exc)) from exc


# --- the evaluator's side ------------------------------------------------------------------------


class MyMembershipViewSet(viewsets.ReadOnlyModelViewSet):
    """My pools and my membership state in each."""

    serializer_class = MyMembershipSerializer
    access_rules = {"*": access.LOGIN}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PoolMembership.objects.none()
        return selectors.memberships_for(user=self.request.user).order_by("id")


class GuidelineViewSet(viewsets.GenericViewSet):
    """The current guideline of a project I am a member of (rendered and raw), and acknowledging it."""

    serializer_class = GuidelineSerializer
    access_rules = {"*": access.LOGIN}
    lookup_field = "slug"
    lookup_url_kwarg = "project"
    lookup_value_regex = "[-a-zA-Z0-9_]+"  # anything else (a NUL, a surrogate) is a 404, never a query

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.project_model().objects.none()
        return selectors.projects_visible_to(user=self.request.user).order_by("id")

    def _current(self):
        project = self.get_object()
        version = selectors.guideline_current(project=project)
        if version is None:
            raise Http404("this project has no published guideline yet")
        return version

    @extend_schema(responses={200: GuidelineSerializer})
    def retrieve(self, request, project=None):
        return Response(GuidelineSerializer(self._current(), context={"request": request}).data)

    @extend_schema(request=None, responses={201: AcknowledgementSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, project=None):
        version = self._current()
        with service_errors():
            ack = services.guideline_acknowledge(user=request.user, version=version)
        return Response(AcknowledgementSerializer(ack).data, status=status.HTTP_201_CREATED)


class CalibrationAttemptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Start, answer and review my calibration attempts. Gold answers appear only in ``result``,
    after submission."""

    serializer_class = CalibrationAttemptSerializer
    access_rules = {"*": access.LOGIN}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CalibrationAttempt.objects.none()
        return selectors.calibration_attempts_for(user=self.request.user)

    @extend_schema(request=CalibrationStartSerializer, responses={201: CalibrationAttemptSerializer})
    def create(self, request):
        payload = CalibrationStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = get_object_or_404(
            selectors.memberships_for(user=request.user), pool_id=payload.validated_data["pool"]
        )
        with service_errors():
            attempt = services.calibration_attempt_start(user=request.user, pool=membership.pool)
        return Response(CalibrationAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CalibrationSubmitSerializer, responses={200: CalibrationResultSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        attempt = self.get_object()
        payload = CalibrationSubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        answers = {a["item"]: a["label"] for a in payload.validated_data["answers"]}
        with service_errors():
            attempt = services.calibration_attempt_submit(user=request.user, attempt_id=attempt.pk, answers=answers)
        return Response(CalibrationResultSerializer(attempt).data)

    @extend_schema(responses={200: CalibrationResultSerializer, 409: None})
    @action(detail=True, methods=["get"])
    def result(self, request, pk=None):
        attempt = self.get_object()
        if not attempt.is_submitted:
            raise Conflict("submit the attempt first: results and gold answers are shown only afterwards")
        return Response(CalibrationResultSerializer(attempt).data)


# --- pool admins -----------------------------------------------------------------------------------


class ManagedPoolViewSet(viewsets.ReadOnlyModelViewSet):
    """Pools I administer: their members, and inviting new ones."""

    serializer_class = PoolSerializer
    access_rules = {"*": access.MANAGE_POOL}

    def get_queryset(self):
        return selectors.pools_administered_by(user=self.request.user)

    @extend_schema(responses={200: ManagedMembershipSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], serializer_class=ManagedMembershipSerializer)
    def members(self, request, pk=None):
        pool = self.get_object()
        memberships = pool.memberships.select_related("user", "pool").order_by("user__username")
        page = self.paginate_queryset(memberships)
        if page is not None:
            return self.get_paginated_response(ManagedMembershipSerializer(page, many=True).data)
        return Response(ManagedMembershipSerializer(memberships, many=True).data)

    @extend_schema(request=InviteSerializer, responses={201: ManagedMembershipSerializer})
    @action(detail=True, methods=["post"], serializer_class=InviteSerializer)
    def invite(self, request, pk=None):
        pool = self.get_object()
        payload = InviteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=payload.validated_data["username"], is_active=True).first()
        if user is None:
            raise ValidationError({"username": f"no active user {payload.validated_data['username']!r}"})
        with service_errors():
            membership = services.membership_invite(
                pool=pool, user=user, actor=request.user, reason=payload.validated_data["reason"]
            )
        return Response(ManagedMembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("pool", OpenApiTypes.INT, description="only this pool's members")])
class ManagedMembershipViewSet(viewsets.ReadOnlyModelViewSet):
    """Members of the pools I administer, and the admin transitions (suspend, reinstate, remove)."""

    serializer_class = ManagedMembershipSerializer
    access_rules = {"*": access.MANAGE_POOL}

    def get_queryset(self):
        memberships = selectors.memberships_administered_by(user=self.request.user)
        pool = self.request.query_params.get("pool")
        if pool and pool.isdigit():
            memberships = memberships.filter(pool_id=int(pool))
        return memberships

    def _transition(self, request, service):
        membership: PoolMembership = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        kwargs = {"membership": membership, "actor": request.user}
        if payload.validated_data["reason"] or service is not services.membership_reinstate:
            kwargs["reason"] = payload.validated_data["reason"]
        with service_errors():
            membership = service(**kwargs)
        return Response(ManagedMembershipSerializer(membership).data)

    @extend_schema(request=ReasonSerializer, responses={200: ManagedMembershipSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition(request, services.membership_suspend)

    @extend_schema(request=ReasonSerializer, responses={200: ManagedMembershipSerializer})
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        return self._transition(request, services.membership_reinstate)

    @extend_schema(request=ReasonSerializer, responses={200: ManagedMembershipSerializer})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        return self._transition(request, services.membership_remove)


__all__ = [
    "CalibrationAttempt",
    "CalibrationAttemptViewSet",
    "GuidelineViewSet",
    "ManagedMembershipViewSet",
    "ManagedPoolViewSet",
    "MyMembershipViewSet",
]
