"""The OpenAPI schema documents the errors every operation can answer, in the API's JSON shape:
a drf-spectacular postprocessing hook (POSTPROCESSING_HOOKS) adds them where a view did not
already describe its own. Clients (and schemathesis) then know every status they can get."""

from __future__ import annotations

from typing import Any

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
