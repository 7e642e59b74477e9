"""While the database cannot be reached (refused, restarting, a connection dropped mid-request)
every request gets a clean 503 with ``Retry-After``: the API's JSON error shape under /api/,
elsewhere a short translated "try again in a moment" page. Never a traceback, never a 500.

The page is rendered from a standalone template without the request (so no context
processor, session or user is read: they would need the database that just failed), in the
language the request itself names (URL, cookie, Accept-Language). Each such request logs one
WARNING line; Django's own ERROR line for the 5xx is filtered out (``skip_service_unavailable``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger(__name__)

# What the driver raises when the server refuses, restarts or drops the connection.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# A PostgreSQL restart or fail-over takes seconds; clients wait this long before trying again.
RETRY_AFTER_SECONDS = 30
API_DETAIL = "The service is temporarily unavailable: try again in a moment."


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def log_unavailable(request: HttpRequest, exc: BaseException) -> None:
    # One line per request, without the traceback: an outage would otherwise flood the log.
    first_line = (str(exc).strip().splitlines() or [""])[0]
    log.warning(
        "database unavailable, answered 503: %s %s (%s: %s)",
        request.method,
        request.path,
        type(exc).__name__,
        first_line,
    )


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 for a request that met a database error (logged here, once)."""
    log_unavailable(request, exc)
    if is_api(request):
        response: HttpResponse = JsonResponse({"detail": API_DETAIL}, status=503)
    else:
        response = unavailable_page(request)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_page(request: HttpRequest) -> HttpResponse:
    language = translation.get_language_from_request(request, check_path=True)
    with translation.override(language):
        html = render_to_string(
            "public/unavailable.html",
            # "Try again" opens the same address (a GET: a form is shown again, not re-sent).
            {"brand": settings.CXCRM_BRAND_NAME, "again": request.get_full_path()},
        )
        response = HttpResponse(html, status=503)
        response["Content-Language"] = translation.get_language()
    # The page says nothing about the resource: no cache may keep it once the database is back.
    response["Cache-Control"] = "no-store"
    return response


def skip_service_unavailable(record: logging.LogRecord) -> bool:
    """Logging filter for django.request: its "Service Unavailable: /path" ERROR repeats the
    WARNING already logged for the request."""
    return getattr(record, "status_code", None) != 503


class DatabaseUnavailableMiddleware:
    """Place it right after AuthenticationMiddleware. The session and the user load lazily, on
    first use, which is inside a later middleware (RequireMFAMiddleware); Django turns an error
    raised there into a 500 before any ``process_exception`` runs, so this loads them first.
    Errors from the view (and DRF's renderers) arrive at ``process_exception``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None:
            try:
                # Free without a session cookie; with one, the two queries every page makes.
                _ = user.is_authenticated
            except DATABASE_ERRORS as exc:
                return unavailable_response(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return unavailable_response(request, exception)
        return None
