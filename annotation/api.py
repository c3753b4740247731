"""Thin API views: validate, call a service or selector, serialise."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not a 500
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import selectors, services
from annotation.exports import approved_rows, csv_line
from annotation.importing import ImportBusy, ImportFileError, items_import
from annotation.models import Annotation, Assignment, Item, Project
from annotation.serializers import (
    AggregateResultSerializer,
    AgreementQuerySerializer,
    AgreementSnapshotSerializer,
    AnnotationSerializer,
    AnnotationUpdateSerializer,
    ApprovedLabelSerializer,
    AssignmentSerializer,
    BulkApproveResultSerializer,
    BulkApproveSerializer,
    ExportQuerySerializer,
    FlagResolutionSerializer,
    FlagResolveSerializer,
    FlagSerializer,
    ImportErrorSerializer,
    ImportResultSerializer,
    ImportUploadSerializer,
    ItemFlagSerializer,
    LabelHistorySerializer,
    NextSerializer,
    OverrideSerializer,
    ProjectHealthSerializer,
    ProjectSerializer,
    ReportCreateSerializer,
    ReportStatusSerializer,
    ReviewItemSerializer,
    ReviewSerializer,
    SkipSerializer,
    SubmitSerializer,
)
from evaluators.api import service_errors
from evaluators.languages import LanguageCodeError, parse_tag
from evaluators.models import Language, PoolMembership
from evaluators.selectors import memberships_administered_by
from evaluators.serializers import DiscardResultSerializer, DiscardSerializer
from parity import access
from parity.throttling import ReportThrottle


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflict"
    default_code = "conflict"


def _drf_errors(exc: Exception) -> Exception:
    if isinstance(exc, services.IdempotencyConflict):
        return Conflict(str(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return PermissionDenied(str(exc))
    if isinstance(exc, DjangoValidationError):
        return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    if isinstance(exc, Assignment.DoesNotExist | Annotation.DoesNotExist):
        return NotFound()
    return exc


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProjectSerializer
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"  # anything else (a NUL, a surrogate) is a 404, never a query

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return selectors.projects_for(user=self.request.user)

    # Reading a project is for whoever the queryset lets see it; changing one or taking its data out
    # is for its managers (and admins).
    access_rules = {
        "list": access.LOGIN, "retrieve": access.LOGIN, "agreement": access.LOGIN,
        "upload": access.MANAGE_PROJECT, "export": access.MANAGE_PROJECT,
        "agreement_record": access.MANAGE_PROJECT, "aggregate": access.MANAGE_PROJECT,
        "health": access.MANAGE_PROJECT,
    }

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportResultSerializer, 400: ImportErrorSerializer},
        description="Import items from CSV, TSV, JSONL or a Label Studio JSON export. A file with any bad row is "
        "rejected whole: the response lists every bad row and nothing is stored.",
    )
    @action(detail=True, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def upload(self, request, slug=None):
        project = self.get_object()
        payload = ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        suffix = Path(upload.name).suffix
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            if hasattr(upload, "temporary_file_path"):
                path = Path(upload.temporary_file_path())
            else:
                with path.open("wb") as handle:
                    shutil.copyfileobj(upload, handle)
            try:
                result = items_import(project=project, path=path, fmt=payload.validated_data.get("file_format"))
            except ImportFileError as exc:
                return Response(
                    {"detail": f"{len(exc.errors)} bad row(s): nothing was imported",
                     "errors": [{"row": e.row, "message": e.message} for e in exc.errors]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            except ImportBusy as exc:
                return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
            except DjangoValidationError as exc:
                raise _drf_errors(exc) from exc
        return Response(ImportResultSerializer(result.as_dict()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.BINARY,
                   (200, "text/tab-separated-values"): OpenApiTypes.BINARY},
        description="Approved labels with provenance, streamed as JSONL, CSV or TSV. CSV/TSV cells that a "
        "spreadsheet would run as a formula (= + - @, tab, carriage return first) start with an apostrophe.",
    )
    @action(detail=True, methods=["get"])
    def export(self, request, slug=None):
        project = self.get_object()
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["file_format"]
        rows = approved_rows(project=project)
        if fmt in ("csv", "tsv"):
            body = _csv_stream(rows, fmt)
            content_type = "text/csv; charset=utf-8" if fmt == "csv" else "text/tab-separated-values; charset=utf-8"
        else:
            body = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            content_type = "application/x-ndjson; charset=utf-8"
        response = StreamingHttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-labels.{fmt}"'
        return response

    @extend_schema(parameters=[AgreementQuerySerializer], responses={200: AgreementSnapshotSerializer(many=True)},
                   description="Agreement snapshots of the project × language over time (oldest first), for charts.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def agreement(self, request, slug=None):
        project = self.get_object()
        query = AgreementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        language = _language_or_404(query.validated_data.get("language"))
        series = selectors.agreement_series(project=project, language=language, whole_project=language is None)
        return Response(AgreementSnapshotSerializer(series, many=True).data)

    @extend_schema(request=None, responses={201: AgreementSnapshotSerializer(many=True)},
                   description="Record agreement snapshots now: one per language and one for the whole project.")
    @action(detail=True, methods=["post"], url_path="agreement/record", pagination_class=None)
    def agreement_record(self, request, slug=None):
        project = self.get_object()
        snapshots = [services.agreement_snapshot_record(project=project, language=lang)
                     for lang in project.languages.all()]
        snapshots.append(services.agreement_snapshot_record(project=project))
        return Response(AgreementSnapshotSerializer(snapshots, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: AggregateResultSerializer},
                   description="Aggregate every item that has its k annotations and no decision yet.")
    @action(detail=True, methods=["post"])
    def aggregate(self, request, slug=None):
        return Response({"decided": services.aggregation_batch_run(project=self.get_object())})

    @extend_schema(responses={200: ProjectHealthSerializer},
                   description="Capacity per language: active qualified evaluators against the overlap k each "
                   "language needs, whether items can complete, and what to do when a language is short.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def health(self, request, slug=None):
        return Response(ProjectHealthSerializer(_project_health(self.get_object())).data)


def _project_health(project: Project) -> dict:
    from annotation.capacity import capacity_report

    rows = capacity_report(project=project)
    return {"project": project.slug, "ok": all(row.ok for row in rows), "languages": rows,
            "aggregate_when_short": project.aggregate_when_short, "short_min_labels": project.short_min_labels}


class CapacityHealthView(APIView):
    """Staff: capacity against overlap k for every project × language, for monitoring (``ok`` is false as
    soon as one language is short, with what to do in each language's ``advice``)."""

    access_rules = {"*": access.CONSOLE}  # admins and console roles; the projects they may see

    @extend_schema(responses={200: ProjectHealthSerializer(many=True)})
    def get(self, request):
        projects = selectors.projects_for(user=request.user)
        return Response(ProjectHealthSerializer([_project_health(p) for p in projects], many=True).data)


def _csv_stream(rows, fmt: str):
    yield csv_line(None, fmt)
    for row in rows:
        yield csv_line(row, fmt)


def _language_or_404(tag: str | None) -> Language | None:
    if not tag:
        return None
    try:
        spec = parse_tag(tag)
    except LanguageCodeError as exc:
        raise ValidationError({"language": str(exc)}) from exc
    language = Language.objects.filter(code=spec.code, script=spec.script, region="").first()
    if language is None:
        raise NotFound(f"no language {tag}")
    return language


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting evaluator's assignments, addressed by their opaque public id."""

    serializer_class = AssignmentSerializer
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    access_rules = {"*": access.LOGIN}  # own assignments only (queryset)

    def get_queryset(self):
        # Scoped to the requesting evaluator: another user's assignment is a 404.
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        return selectors.assignments_for(user=self.request.user)

    @extend_schema(request=NextSerializer, responses={200: AssignmentSerializer, 204: None})
    @action(detail=False, methods=["post"])
    def next(self, request):
        payload = NextSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        project = None
        if payload.validated_data.get("project"):  # one the user may see, else a 404 (as projects_for)
            project = selectors.project_visible(user=request.user, slug=payload.validated_data["project"])
            if project is None:
                raise NotFound("No Project matches the given query.")
        assignment = services.assignment_next(evaluator=request.user, project=project)
        if assignment is None:
            from evaluators.selectors import work_refusal

            refusal = work_refusal(user=request.user, project=project)
            if refusal:  # suspended or removed: say so, never an empty queue
                raise PermissionDenied(refusal)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AssignmentSerializer(assignment).data)

    @extend_schema(request=SubmitSerializer, responses={201: AnnotationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, public_id=None):
        payload = SubmitSerializer(data=request.data)
        if not payload.is_valid():
            self.get_object()  # a foreign or unknown assignment is a 404 before any 400
            raise ValidationError(payload.errors)
        try:
            # By public id: the service reads the evaluator's own assignment once, under its lock.
            annotation = services.annotation_submit(
                evaluator=request.user, assignment_public_id=public_id, **payload.validated_data
            )
        except (DjangoPermissionDenied, DjangoValidationError, Assignment.DoesNotExist,
                services.IdempotencyConflict) as exc:
            raise _drf_errors(exc) from exc
        return Response(AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SkipSerializer, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def skip(self, request, public_id=None):
        assignment = self.get_object()
        payload = SkipSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            skipped = services.assignment_skip(
                evaluator=request.user, assignment_id=assignment.pk, reason=payload.validated_data["reason"]
            )
        except (DjangoValidationError, Assignment.DoesNotExist) as exc:
            raise _drf_errors(exc) from exc
        return Response(AssignmentSerializer(skipped).data)

    @extend_schema(request=FlagSerializer, responses={201: ItemFlagSerializer})
    @action(detail=True, methods=["post"])
    def flag(self, request, public_id=None):
        assignment = self.get_object()
        payload = FlagSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            flag = services.item_flag(evaluator=request.user, assignment_id=assignment.pk, **payload.validated_data)
        except (DjangoValidationError, Assignment.DoesNotExist) as exc:
            raise _drf_errors(exc) from exc
        return Response(ItemFlagSerializer(flag).data, status=status.HTTP_201_CREATED)


@extend_schema_view(partial_update=extend_schema(request=AnnotationUpdateSerializer,
                                                 responses={200: AnnotationSerializer}))
class AnnotationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting evaluator's own annotations; they may change a label until the item is reviewed."""

    serializer_class = AnnotationSerializer
    access_rules = {"*": access.LOGIN}  # own annotations only (queryset)
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Annotation.objects.none()
        return selectors.annotations_for(user=self.request.user)

    def partial_update(self, request, pk=None):
        annotation = get_object_or_404(self.get_queryset(), pk=pk)
        payload = AnnotationUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            updated = services.annotation_update(
                evaluator=request.user, annotation_id=annotation.pk, label=payload.validated_data["label"]
            )
        except (DjangoPermissionDenied, DjangoValidationError, Annotation.DoesNotExist) as exc:
            raise _drf_errors(exc) from exc
        return Response(AnnotationSerializer(updated).data)


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The adjudication queue (staff): items waiting for review, with every vote; approve or override,
    settle an item's flags, approve several proposed labels at once."""

    serializer_class = ReviewItemSerializer
    # and the queryset holds only the project × languages they review: another one is a 404
    access_rules = {"*": access.REVIEW_ITEM, "resolve_flag": access.REVIEW_ITEM, "bulk_approve": access.REVIEW_ITEM}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Item.objects.none()
        if self.action == "list":
            return selectors.review_queue(user=self.request.user)
        return selectors.reviewable_items(user=self.request.user)

    @extend_schema(request=ReviewSerializer, responses={200: ApprovedLabelSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        item = get_object_or_404(self.get_queryset(), pk=pk)
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            approved = services.review_approve(item=item, reviewer=request.user, **payload.validated_data)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        return Response(ApprovedLabelSerializer(approved).data)

    @extend_schema(request=OverrideSerializer, responses={200: ApprovedLabelSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        item = get_object_or_404(self.get_queryset(), pk=pk)
        payload = OverrideSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            approved = services.review_override(item=item, reviewer=request.user, **payload.validated_data)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        return Response(ApprovedLabelSerializer(approved).data)

    @extend_schema(
        request=FlagResolveSerializer, responses={200: FlagResolutionSerializer},
        summary="Resolve an item's flags: dismiss, remove from the pool, or relabel",
        description="Settle every open flag of the item (the review queue's Flagged tab). `dismiss` keeps the "
        "item in the pool as it is, `remove` takes it out (never served again, active leases ended), `relabel` "
        "approves `label` as a reviewer's override. Repeating the same action is a 200 with `repeated: true` "
        "and changes nothing; an item without an open flag is otherwise a 400.")
    @action(detail=True, methods=["post"], url_path="resolve-flag")
    def resolve_flag(self, request, pk=None):
        from annotation import review

        item = get_object_or_404(selectors.flaggable_items(user=request.user), pk=pk)
        payload = FlagResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            resolution, repeated = review.flag_resolve_or_repeat(item=item, reviewer=request.user,
                                                                 **payload.validated_data)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        return Response({"item": item.pk, "resolution": resolution, "repeated": repeated})

    @extend_schema(
        request=BulkApproveSerializer, responses={200: BulkApproveResultSerializer},
        summary="Approve the proposed label of several items at once",
        description="Each item is approved in its own transaction: a tie (no proposed label) is refused with its "
        "reason while the others go through. Items already approved are left as they are (a repeated request "
        "changes nothing); ids of items outside the caller's project × languages are listed in `not_found` "
        "and left untouched.")
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request):
        from annotation import review

        payload = BulkApproveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = review.review_bulk_approve(item_ids=payload.validated_data["items"], reviewer=request.user,
                                            comment=payload.validated_data["comment"])
        return Response(BulkApproveResultSerializer({
            "approved": result.approved, "already_approved": result.already_approved,
            "refused": [{"item": pk, "reason": why} for pk, why in result.refused.items()],
            "not_found": result.not_found,
        }).data)

    @extend_schema(responses={200: LabelHistorySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        item = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(LabelHistorySerializer(item.label_history.select_related("actor"), many=True).data)


class ReportCreateView(generics.GenericAPIView):
    """Public: report a problem with a model's output (no login; throttled per client)."""

    serializer_class = ReportCreateSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    access_rules = {"*": access.PUBLIC}
    throttle_classes = [ReportThrottle]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportStatusSerializer})
    def post(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = {key: value for key, value in payload.validated_data.items() if key != "website"}
        try:
            report = services.report_create(**data)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        return Response(ReportStatusSerializer(report).data, status=status.HTTP_201_CREATED)


class ReportStatusView(generics.GenericAPIView):
    """Public: the status of one report, by its reference (nothing else is reachable)."""

    serializer_class = ReportStatusSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    access_rules = {"*": access.PUBLIC}

    @extend_schema(
        parameters=[OpenApiParameter("reference", str, OpenApiParameter.PATH)],
        responses={200: ReportStatusSerializer, 404: OpenApiResponse(description="unknown reference")},
    )
    def get(self, request, reference: str):
        report = selectors.report_by_reference(reference)
        if report is None:
            raise NotFound("no report with this reference")
        return Response(ReportStatusSerializer(report).data)


class ManagedMembershipDiscardViewSet(viewsets.GenericViewSet):
    """``POST /api/manage/memberships/<id>/discard/``. Discarding changes annotations, so the action lives
    in the annotation app (``evaluators`` imports nothing from it); it reaches the same members as
    ``evaluators.api.ManagedMembershipViewSet``: those of the pools the caller administers."""

    access_rules = {"*": access.MANAGE_POOL}  # on the membership's pool
    serializer_class = DiscardSerializer

    def get_queryset(self):
        return memberships_administered_by(user=self.request.user)

    @extend_schema(request=DiscardSerializer, responses={201: DiscardResultSerializer},
                   description="Discard the member's annotations since a date: they leave aggregation and "
                   "agreement, approved labels that relied on them are re-opened, and all of it is logged.")
    @action(detail=True, methods=["post"], serializer_class=DiscardSerializer)
    def discard(self, request, pk=None):
        membership: PoolMembership = self.get_object()
        payload = DiscardSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            discard = services.annotations_discard(membership=membership, actor=request.user, **payload.validated_data)
        return Response(DiscardResultSerializer(discard).data, status=status.HTTP_201_CREATED)
