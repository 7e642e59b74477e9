"""A JSON parser that enforces a body limit and refuses NUL characters.

DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (checked only by
``request.body`` and form parsing) never applies to JSON bodies: the limit is enforced here
while reading, and a chunked body without Content-Length is cut off at the limit too.
PostgreSQL cannot store NUL in text; refusing it at the door keeps it a 400, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _no_constants(name: str) -> float:
    # NaN and Infinity are not JSON; Python would accept them and PostgreSQL's jsonb would not.
    raise ValueError(f"{name} is not valid JSON")


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = int(settings.CXCRM_API_MAX_BODY_BYTES)
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and str(length).isdigit() and int(length) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from None
        # A NUL can only come from the escape \u0000 (a raw one is not valid JSON): the walk
        # over every value runs only when the body holds that escape (a cheap byte search).
        if b"\\u0000" in raw and has_nul(data):
            raise ParseError("NUL characters (\\u0000) are not allowed in text.")
        return data
