"""Each app owns its API routes (``<app>/api_urls.py``) and its HTML pages (``<app>/urls.py``)."""
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from parity.schema_views import BrowsableSchemaView


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("evaluators.api_urls")),
    path("api/", include("annotation.api_urls")),
    path("api/", include("learner.api_urls")),
    path("api/schema/", BrowsableSchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("", include("evaluators.urls")),
    path("", include("annotation.urls")),
    path("", include("learner.urls")),
]
