"""Every API error is JSON: ``{"detail": ...}`` or field errors ``{"field": ["..."]}``.

Errors raised by the model layer (a ValidationError from ``full_clean``, a service's
ServiceError, Http404) become 400/404 here, so a view never leaks a 500 for bad input.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from cxcrm.errors import ServiceError

log = logging.getLogger(__name__)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
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
    response = exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data = {"detail": str(response.data.get("detail", "Too many requests."))}
    return response
