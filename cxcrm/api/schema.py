"""The OpenAPI schema documents the errors every operation can answer, in the API's JSON shape:
a drf-spectacular postprocessing hook (POSTPROCESSING_HOOKS) adds them where a view did not
already describe its own. Clients (and schemathesis) then know every status they can get.
The schema class and a second hook keep it valid OpenAPI and friendly to client generators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# 400 is either {"detail": "..."} or field errors ({"field": ["..."]}, or one such object per
# item of a list): any JSON value.
VALIDATION_ERROR: dict[str, Any] = {
    "description": "Field errors ({field: [messages]}), one such object per item of a list, "
    "or {detail: message}."
}

EVERY_OPERATION = {
    "400": ("ValidationError", "Malformed input: a query parameter, the cursor or the body."),
    "401": ("Error", "No valid API key or staff session."),
    "403": ("Error", "The key's scopes or the user's permissions do not allow this."),
    "404": ("Error", "No such object (or page)."),
    "429": ("Error", "Too many requests for this key; retry after Retry-After seconds."),
}
WITH_BODY = {
    "413": ("Error", "The body is larger than CXCRM_API_MAX_BODY_BYTES."),
    "415": ("Error", "The body is not application/json."),
}
# Errors only some operations answer: a view declares the status (with its description) and
# the error's shape is added here.
SHAPED_BY_CODE = {"409": "Error"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _response(component: str, description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = EVERY_OPERATION | (WITH_BODY if "requestBody" in operation else {})
            for code, (component, description) in codes.items():
                responses.setdefault(code, _response(component, description))
            for code, component in SHAPED_BY_CODE.items():
                if code in responses and "content" not in responses[code]:
                    responses[code] = _response(component, responses[code]["description"])
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
