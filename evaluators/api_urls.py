from rest_framework.routers import DefaultRouter

from evaluators.api import (
    CalibrationAttemptViewSet,
    GuidelineViewSet,
    ManagedMembershipViewSet,
    ManagedPoolViewSet,
    MyMembershipViewSet,
)

router = DefaultRouter()
router.include_root_view = False  # the annotation app's router serves /api/
router.register("my/memberships", MyMembershipViewSet, basename="my-membership")
router.register("guidelines", GuidelineViewSet, basename="guideline")
router.register("calibration/attempts", CalibrationAttemptViewSet, basename="calibration-attempt")
router.register("manage/pools", ManagedPoolViewSet, basename="managed-pool")
router.register("manage/memberships", ManagedMembershipViewSet, basename="managed-membership")
urlpatterns = router.urls
