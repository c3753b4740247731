from django.urls import path
from rest_framework.routers import DefaultRouter

from annotation.api import (
    AnnotationViewSet,
    AssignmentViewSet,
    CapacityHealthView,
    ManagedMembershipDiscardViewSet,
    ProjectViewSet,
    ReportCreateView,
    ReportStatusView,
    ReviewViewSet,
)
from parity import access


class APIRoot(DefaultRouter.APIRootView):
    """The list of API links (no data): open to anyone, like the schema."""

    access_rules = {"*": access.PUBLIC}


router = DefaultRouter()
router.APIRootView = APIRoot
router.register("projects", ProjectViewSet, basename="project")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("annotations", AnnotationViewSet, basename="annotation")
router.register("review", ReviewViewSet, basename="review")
# The discard action of /api/manage/memberships/<id>/ (the rest of that resource is the evaluators app's).
router.register("manage/memberships", ManagedMembershipDiscardViewSet, basename="managed-membership-discard")
urlpatterns = [
    path("health/capacity/", CapacityHealthView.as_view(), name="capacity-health"),
    path("reports/", ReportCreateView.as_view(), name="report-create"),
    path("reports/<str:reference>/", ReportStatusView.as_view(), name="report-status"),
    *router.urls,
]
