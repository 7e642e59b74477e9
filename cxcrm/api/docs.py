"""The API's human documentation: ReDoc on our own template (no web fonts, its search worker
allowed) and the "Getting started" page. Swagger UI and the schema are drf-spectacular's views
as they ship (cxcrm.urls)."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.views import SpectacularRedocView

from cxcrm.api.texts import retry_schedule_text


class RedocView(SpectacularRedocView):
    # drf-spectacular's template links Google Fonts and starts ReDoc with an inline script,
    # which our CSP refuses: ours loads a static start-up script and no outside resource.
    template_name = "api/redoc.html"


# ReDoc's search indexes the schema in a Web Worker that it starts from a blob: URL. Only this
# page may start one (django-csp's per-view update); every other page keeps worker-src 'self'.
redoc_view = csp_update({"worker-src": ["'self'", "blob:"]})(
    RedocView.as_view(url_name="api:schema")
)


def getting_started(request: HttpRequest) -> HttpResponse:
    """Public, like the schema: it shows no data, only how to use the API."""
    context: dict[str, Any] = {
        "brand": settings.CXCRM_BRAND_NAME,
        "site_url": settings.SITE_URL.rstrip("/"),
        "retry_schedule": retry_schedule_text(settings.CXCRM_WEBHOOK_RETRY_SCHEDULE),
    }
    return render(request, "api/getting_started.html", context)
