"""/api/schema/ for tools and for people (kept apart from parity.schema, which DRF's settings import
before drf-spectacular's views can be loaded)."""
from __future__ import annotations

from django.shortcuts import redirect
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView


class BrowsableSchemaView(SpectacularAPIView):
    """Tools (Accept: */*, JSON or YAML, ``?format=json``) get the schema; a browser gets the docs."""

    @extend_schema(exclude=True)  # the schema does not list itself (SERVE_INCLUDE_SCHEMA is off)
    def get(self, request, *args, **kwargs):
        accept = request.headers.get("Accept", "")
        if "text/html" in accept and not request.query_params.get("format"):
            return redirect("api-docs")
        return super().get(request, *args, **kwargs)
