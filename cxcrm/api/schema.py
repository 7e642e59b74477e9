"""The OpenAPI schema documents the errors every operation can answer, in the API's JSON shape:
a drf-spectacular postprocessing hook (POSTPROCESSING_HOOKS) adds them where a view did not
already describe its own. Clients (and schemathesis) then know every status they can get.
The schema class and a second hook keep it valid OpenAPI and friendly to client generators.

Each status is a named response component (``#/components/responses/…``) whose body is the
``Error`` or ``ValidationError`` schema, with examples of what the API really answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from cxcrm.unavailable import API_DETAIL

ERROR = {
    "type": "object",
    "description": "Every error but bad input: one message.",
    "properties": {"detail": {"type": "string", "description": "What went wrong."}},
    "required": ["detail"],
}
# 400 is either {"detail": "..."} or field errors ({"field": ["..."]}, or one such object per
# item of a list): any JSON value.
VALIDATION_ERROR: dict[str, Any] = {
    "description": "Bad input: the messages per field ({field: [messages]}; for a list of "
    "items, one such object per item, {} for the good ones), or {detail: message}."
}


def _example(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


# status → (component name, body schema, description, examples)
RESPONSES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "400": (
        "BadRequest",
        "ValidationError",
        "Bad input: a field, a query parameter, the cursor or the JSON itself. Nothing was "
        "written.",
        {
            "fields": _example(
                "Messages per field",
                {"currency": ["This value does not match the required pattern."]},
            ),
            "list": _example(
                "A list of interactions: one object per item",
                [{}, {"touchpoint": ["No touchpoint with this slug."]}],
            ),
            "detail": _example(
                "One message",
                {"detail": "JSON parse error: Expecting value: line 1 column 1 (char 0)"},
            ),
        },
    ),
    "401": (
        "Unauthorized",
        "Error",
        "No valid API key (nor a staff session).",
        {
            "missing": _example(
                "No key", {"detail": "Authentication credentials were not provided."}
            ),
            "revoked": _example("Bad key", {"detail": "Invalid or revoked API key."}),
        },
    ),
    "403": (
        "Forbidden",
        "Error",
        "The key's scopes (a read key writing) or the user's role do not allow this.",
        {
            "scope": _example(
                "Not allowed",
                {"detail": "You do not have permission to perform this action."},
            )
        },
    ),
    "404": (
        "NotFound",
        "Error",
        "No such object, or not one you can see.",
        {"missing": _example("No such object", {"detail": "Not found."})},
    ),
    "413": (
        "PayloadTooLarge",
        "Error",
        "The body is larger than CXCRM_API_MAX_BODY_BYTES (5 MB by default).",
        {
            "large": _example(
                "Too large", {"detail": "The request body is larger than 5242880 bytes."}
            )
        },
    ),
    "415": (
        "UnsupportedMediaType",
        "Error",
        "The body is not JSON: send Content-Type: application/json.",
        {
            "form": _example(
                "A form body",
                {"detail": 'Unsupported media type "text/plain" in request.'},
            )
        },
    ),
    "429": (
        "TooManyRequests",
        "Error",
        "Too many requests for this key (CXCRM_API_RATE_READ, CXCRM_API_RATE_WRITE): retry "
        "after the Retry-After header's seconds.",
        {
            "throttled": _example(
                "Throttled", {"detail": "Request was throttled. Expected available in 12 seconds."}
            )
        },
    ),
    "503": (
        "ServiceUnavailable",
        "Error",
        "The database cannot be reached for a moment (a restart, a fail-over): retry after "
        "the Retry-After header's seconds (re-sent interactions are idempotent by source and "
        "external_id).",
        {
            "unavailable": _example(
                "Unavailable",
                {"detail": API_DETAIL},
            )
        },
    ),
}
EVERY_OPERATION = ["400", "401", "403", "404", "429", "503"]
WITH_BODY = ["413", "415"]
# Errors only some operations answer: a view declares the status (with its description) and
# the error's shape is added here.
SHAPED_BY_CODE = {"409": "Error"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _component(body: str, description: str, examples: dict[str, Any]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{body}"}
    return {
        "description": description,
        "content": {"application/json": {"schema": schema, "examples": examples}},
    }


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    named = components.setdefault("responses", {})
    for name, body, description, examples in RESPONSES.values():
        named.setdefault(name, _component(body, description, examples))
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = EVERY_OPERATION + (WITH_BODY if "requestBody" in operation else [])
            for code in codes:
                responses.setdefault(code, {"$ref": f"#/components/responses/{RESPONSES[code][0]}"})
            for code, body in SHAPED_BY_CODE.items():
                if code in responses and "content" not in responses[code]:
                    schema = {"$ref": f"#/components/schemas/{body}"}
                    content = {"application/json": {"schema": schema}}
                    responses[code] = {**responses[code], "content": content}
    return result


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, with the object id in every path typed as what it is.

    ApiViewSet restricts ``{id}`` to digits by a regex, which drf-spectacular publishes as a
    string with a pattern: clients would then take ids as text. The explicit parameter (an
    @extend_schema override, here for every operation whose path has one) says integer."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if "{id}" in self.path:
            # First, so that a view's own description of ``id`` still wins.
            parameters.insert(0, PATH_ID)
        return parameters


# What the URL resolver lets through (ApiViewSet.lookup_value_regex): up to 18 digits.
PATH_ID = OpenApiParameter(
    "id",
    {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**18 - 1},
    OpenApiParameter.PATH,
    description="The object's id.",
)


def blank_strings(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular describes a text field that may be blank and has a pattern or format
    as ``oneOf: [{..., pattern, default: ''}, {maxLength: 0}]``. Two flaws: the default sits
    in the branch whose pattern the empty string may fail (the schema is then invalid), and
    an empty string that both branches accept (a pattern such as ``^[^…]*$``) fails ``oneOf``.
    So the default moves up beside the alternatives, which become ``anyOf``."""
    for schema in _schemas(result):  # components and the operations' parameters
        branches = schema.get("oneOf")
        if not (isinstance(branches, list) and len(branches) == 2 and branches[1] == BLANK):
            continue
        if "default" in branches[0]:
            schema.setdefault("default", branches[0].pop("default"))
        schema["anyOf"] = schema.pop("oneOf")
    return result


BLANK = {"type": "string", "maxLength": 0}


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside a node, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)
