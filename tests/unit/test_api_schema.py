"""The OpenAPI schema at /api/schema/ as client generators read it: valid OpenAPI 3.0, no
component named like a generator's own types, ids as integers, booleans as booleans, the
metrics answer as a typed object. (tests/unit/test_api_schemathesis.py checks that the API
behaves as the schema says; tests/integration/test_generated_client.py runs a generated client.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import OpenAPIV30SpecValidator

# Names openapi-python-client (and generators like it) give their own classes: a component
# called so shadows them inside the generated modules (`Response` did: "type 'Response' is
# not subscriptable").
GENERATOR_NAMES = {"Response", "Client", "AuthenticatedClient", "File", "Unset", "Errors"}
ID_FILTERS = {
    "/api/v1/interactions/": ["customer"],
    "/api/v1/invitations/": ["customer", "survey", "interaction"],
    "/api/v1/responses/": ["customer", "survey"],
    "/api/v1/tickets/": ["customer", "response"],
    "/api/v1/webhook-deliveries/": ["endpoint"],
    "/api/v1/metrics/": ["survey"],
}
BOOLEAN_FILTERS = {
    "/api/v1/customers/": ["reachable"],
    "/api/v1/responses/": ["has_comment"],
    "/api/v1/tickets/": ["open", "overdue", "unassigned"],
    "/api/v1/touchpoints/": ["active"],
    "/api/v1/surveys/": ["active"],
    "/api/v1/root-causes/": ["active"],
    "/api/v1/webhooks/": ["active"],
}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _parameter(schema: dict[str, Any], path: str, name: str, where: str) -> dict[str, Any]:
    (found,) = [
        p
        for p in schema["paths"][path]["get"]["parameters"]
        if p["name"] == name and p["in"] == where
    ]
    return found["schema"]


def test_the_schema_is_valid_openapi(schema: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in OpenAPIV30SpecValidator(schema).iter_errors()
    ]
    assert errors == []


def test_a_blank_default_sits_beside_its_alternatives(schema: dict[str, Any]) -> None:
    # The two fields whose `default: ''` failed their own pattern and format.
    properties = schema["components"]["schemas"]
    currency = properties["InteractionInputRequest"]["properties"]["currency"]
    email = properties["WebhookEndpointInputRequest"]["properties"]["owner_email"]
    for field in (currency, email):
        assert field["default"] == ""
        assert all("default" not in branch for branch in field["anyOf"])
        assert {"type": "string", "maxLength": 0} in field["anyOf"]


def test_no_component_is_named_like_a_generator_type(schema: dict[str, Any]) -> None:
    names = set(schema["components"]["schemas"])
    assert names & GENERATOR_NAMES == set()
    assert {"SurveyResponse", "PaginatedSurveyResponseList", "InteractionCreateRequest"} <= names


def test_id_filters_are_64_bit_integers(schema: dict[str, Any]) -> None:
    for path, names in ID_FILTERS.items():
        for name in names:
            declared = _parameter(schema, path, name, "query")
            assert (path, name, declared["type"], declared["format"]) == (
                path,
                name,
                "integer",
                "int64",
            )


def test_every_path_id_is_an_integer(schema: dict[str, Any]) -> None:
    seen = 0
    for path, item in schema["paths"].items():
        if "{id}" not in path:
            continue
        for method, operation in item.items():
            (declared,) = [p for p in operation["parameters"] if p["in"] == "path"]
            assert (path, method, declared["schema"]["type"]) == (path, method, "integer")
            seen += 1
    assert seen >= 20


def test_boolean_filters_are_booleans(schema: dict[str, Any]) -> None:
    for path, names in BOOLEAN_FILTERS.items():
        for name in names:
            declared = _parameter(schema, path, name, "query")
            assert (path, name, declared["type"]) == (path, name, "boolean")


def test_metrics_answer_is_a_typed_object(schema: dict[str, Any]) -> None:
    ok = schema["paths"]["/api/v1/metrics/"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Metrics"}
    components = schema["components"]["schemas"]
    metrics = components["Metrics"]
    assert metrics["type"] == "object"
    assert set(metrics["properties"]) == {
        "since",
        "until",
        "scores",
        "response_rate",
        "loop",
        "groups",
        "tickets",
    }
    assert metrics["required"] == ["since", "until"]
    assert set(components["MetricsTickets"]["properties"]) == {"open", "overdue"}
    summary = components["MetricsSummary"]["properties"]
    assert summary["n"]["type"] == "integer"
    assert summary["value"] == {
        "type": "number",
        "format": "double",
        "nullable": True,
        "description": summary["value"]["description"],
    }
