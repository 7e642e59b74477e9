"""A JSON parser that enforces a body limit and refuses NUL characters, non-finite numbers and
deep nesting.

DRF reads a JSON body through ``request.body``, where Django's DATA_UPLOAD_MAX_MEMORY_SIZE
applies first (settings raise it to at least CXCRM_API_MAX_BODY_BYTES, and the API's exception
handler answers its RequestDataTooBig with 413); the API's own limit is enforced here, from
Content-Length and while reading.
PostgreSQL cannot store NUL in text nor ``Infinity`` in jsonb; refusing them at the door keeps
them a 400, never a 500. Nesting is capped so that nothing after the parser (validation, JSON
encoding for the database, rendering) can run out of recursion depth.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# Deeper than any integrator's attributes or metadata; far below Python's recursion limit.
MAX_DEPTH = 64


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def too_large() -> RequestTooLarge:
    return RequestTooLarge(
        f"The request body is larger than {int(settings.CXCRM_API_MAX_BODY_BYTES)} bytes."
    )


def has_nul(value: Any) -> bool:
    """Whether any key or text in a parsed JSON value holds a NUL (walked without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def depth_of(value: Any) -> int:
    """How deeply arrays and objects nest (a scalar is 0), walked without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _no_constants(name: str) -> float:
    # NaN and Infinity are not JSON; Python would accept them and PostgreSQL's jsonb would not.
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    # 1e999 is valid JSON syntax but overflows to inf, which no JSON column can store.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = int(settings.CXCRM_API_MAX_BODY_BYTES)
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and str(length).isascii() and str(length).isdigit() and int(length) > limit:
            raise too_large()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large()
        try:
            data = json.loads(
                raw.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite
            )
        except RecursionError:
            raise ParseError(f"JSON parse error: nested deeper than {MAX_DEPTH} levels.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from None
        if depth_of(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error: nested deeper than {MAX_DEPTH} levels.")
        # A NUL can only come from the escape \u0000 (a raw one is not valid JSON): the walk
        # over every value runs only when the body holds that escape (a cheap byte search).
        if b"\\u0000" in raw and has_nul(data):
            raise ParseError("NUL characters (\\u0000) are not allowed in text.")
        return data
