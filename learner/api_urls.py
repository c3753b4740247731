from rest_framework.routers import DefaultRouter

from learner.api import ModelVersionViewSet, TrainingRunViewSet

router = DefaultRouter()
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("training-runs", TrainingRunViewSet, basename="training-run")
urlpatterns = router.urls
