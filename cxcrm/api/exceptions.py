"""Every API error is JSON: ``{"detail": ...}`` or field errors ``{"field": ["..."]}``.

Errors raised by the model layer (a ValidationError from ``full_clean``, a service's
ServiceError, Http404) become 400/404 here (InUseError a 409), so a view never leaks a 500 for
bad input; a body over
DATA_UPLOAD_MAX_MEMORY_SIZE (Django's RequestDataTooBig, raised while DRF reads ``request.body``)
is the same 413 as one over CXCRM_API_MAX_BODY_BYTES.

While the database is unreachable, its errors (cxcrm.unavailable.DATABASE_ERRORS) are a 503
``{"detail": ...}`` with ``Retry-After``, here for the API's views and in ``server_error`` for
what reaches Django's 500 handler.

Errors that happen before a view runs (no URL matched, a bad request refused by a middleware)
are answered by Django's error views; ``bad_request``, ``page_not_found``, ``permission_denied``
and ``server_error`` (handler400… in the URLconf) answer them in the same JSON shape under /api/.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from cxcrm.api.parsers import too_large
from cxcrm.errors import InUseError, ServiceError
from cxcrm.unavailable import (
    API_DETAIL,
    DATABASE_ERRORS,
    RETRY_AFTER_SECONDS,
    log_unavailable,
    unavailable_response,
)

log = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request is valid but the resource's state refuses it (deleting a row in use)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is in use."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    """The database cannot be reached: the client retries after Retry-After seconds."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = API_DETAIL
    default_code = "unavailable"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DATABASE_ERRORS):
        # Authentication (the key's lookup), the view or its service lost the database.
        log_unavailable(context["request"], exc)
        exc = ServiceUnavailable()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, InUseError):
        exc = Conflict(str(exc))
    elif isinstance(exc, ServiceError):
        exc = exceptions.ValidationError({"detail": str(exc)})
    elif isinstance(exc, DataError):
        # A value the database refuses (out of range, bad encoding) that validation missed.
        log.warning("database refused API input at %s: %s", context["request"].path, exc)
        exc = exceptions.ValidationError({"detail": "A value is out of range or malformed."})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = too_large()
    response = exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data = {"detail": str(response.data.get("detail", "Too many requests."))}
    if isinstance(exc, ServiceUnavailable) and response is not None:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


# --- Django's error views, in the API's shape under /api/ --------------------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        # BadRequest carries a message written for the caller; a SuspiciousOperation's may
        # repeat what an attacker sent, and is not echoed.
        detail = str(exception) if type(exception) is BadRequest else "Bad request."
        return JsonResponse({"detail": detail or "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        detail = "You do not have permission to perform this action."
        return JsonResponse({"detail": detail}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while it handles the exception (DEBUG off), so it is still the current
    # one: a database error raised outside a view (a session saved after the view) is a 503.
    current = sys.exc_info()[1]
    if isinstance(current, DATABASE_ERRORS):
        return unavailable_response(request, current)
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
