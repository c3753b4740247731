"""Each app owns its API routes (``<app>/api_urls.py``) and its HTML pages (``<app>/urls.py``)."""
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from parity import access
from parity import views as account_views
from parity.schema_views import BrowsableSchemaView


def not_found(request, exception=None):
    """API clients get JSON for a path no route matches (e.g. ``/api/review/1.5/``); people get the page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


handler404 = not_found


@access.declare(access.PUBLIC)
def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("evaluators.api_urls")),
    path("api/", include("annotation.api_urls")),
    path("api/", include("learner.api_urls")),
    path("api/schema/", BrowsableSchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("account/tokens/", account_views.tokens, name="tokens"),
    path("account/tokens/<str:key>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("", include("evaluators.urls")),
    path("", include("annotation.urls")),
    path("", include("learner.urls")),
]
