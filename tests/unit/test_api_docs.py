"""The API's documentation teaches: every operation and filter has written texts, no developer
docstring is published, request examples fit their schema, every error is a named response
with examples, webhook events are documented with payloads that match what is sent, and the
docs pages are public and load nothing from elsewhere."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from rest_framework import serializers

from cxcrm.api.schema import RESPONSES
from cxcrm.urls import router
from cxcrm.webhooks.event_types import EVENTS
from feedback.surveys.events import response_data
from feedback.tickets.events import ticket_data
from tests.factories import ResponseFactory, TicketFactory

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        answer = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 200
    return json.loads(answer.content)


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def as_jsonschema(node: Any, schema: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema object as JSON Schema: references inlined, ``nullable`` as a
    "null" type."""
    if isinstance(node, list):
        return [as_jsonschema(item, schema) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return as_jsonschema(schema["components"]["schemas"][name], schema)
    out = {k: as_jsonschema(v, schema) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def test_every_operation_has_a_written_summary_and_description(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        where = f"{method.upper()} {path}"
        summary = op.get("summary", "")
        assert summary, f"{where}: no summary"
        # A sentence, not an identifier such as "customers_list".
        assert not re.fullmatch(r"[a-z0-9_]+", summary), f"{where}: {summary!r}"
        assert summary[0].isupper(), f"{where}: {summary!r}"
        assert len(op.get("description", "")) >= 10, f"{where}: no description"


def test_every_parameter_is_described(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), f"{method.upper()} {path}: {parameter['name']}"


def test_every_tag_is_described(schema: dict[str, Any]) -> None:
    used = {tag for _, _, op in operations(schema) for tag in op.get("tags", [])}
    described = {tag["name"] for tag in schema.get("tags", []) if tag.get("description")}
    assert used <= described


def docstrings() -> dict[str, str]:
    """The first sentence of every docstring an API view, its actions and serializers have."""
    found: dict[str, str] = {}

    def add(name: str, obj: Any) -> None:
        doc = (obj.__doc__ or "").strip()
        if doc and not doc.startswith(("Mixin", "Base")):
            found[name] = " ".join(doc.split())[:60]

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in ("customers", "touchpoints", "feedback", "cxcrm"):
                add(sub.__qualname__, sub)
            walk(sub)

    walk(serializers.BaseSerializer)
    for _, viewset, _ in router.registry:
        add(viewset.__name__, viewset)
        for name in dir(viewset):
            member = getattr(viewset, name, None)
            if callable(member) and (getattr(member, "__module__", "") or "").startswith(
                ("customers", "touchpoints", "feedback", "cxcrm")
            ):
                add(f"{viewset.__name__}.{name}", member)
    return found


def test_no_developer_docstring_is_published(schema: dict[str, Any]) -> None:
    text = " ".join(json.dumps(schema).replace("\\n", " ").split())
    found = docstrings()
    assert len(found) > 10  # the walk does find them
    published = {name: doc for name, doc in found.items() if doc in text}
    assert published == {}


def request_examples(schema: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    out = []
    for method, path, op in operations(schema):
        content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        for name, example in content.get("examples", {}).items():
            out.append((f"{method.upper()} {path} {name}", example["value"], content["schema"]))
    return out


def test_request_examples_fit_their_schema(schema: dict[str, Any]) -> None:
    examples = request_examples(schema)
    posts = {where.rsplit(" ", 1)[0] for where, _, _ in examples}
    # Every write with a body shows one.
    writes = {f"{m.upper()} {p}" for m, p, op in operations(schema) if "requestBody" in op and op}
    assert writes - posts == set()
    for where, value, body in examples:
        errors = list(jsonschema.Draft7Validator(as_jsonschema(body, schema)).iter_errors(value))
        assert errors == [], f"{where}: {[e.message for e in errors]}"


def test_interaction_example_is_a_real_purchase(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/api/v1/interactions/"]["post"]["requestBody"]["content"]
    purchase = next(iter(content["application/json"]["examples"].values()))["value"]
    # Names the demo's customer and touchpoint, in a real currency (issue 16: it was
    # "customer": 9223372036854776000 and "currency": "str").
    assert purchase["customer_external_id"].startswith("demo-cust-")
    assert purchase["currency"] == "EUR"
    assert "customer" not in purchase


def test_every_error_is_a_named_response_with_examples(schema: dict[str, Any]) -> None:
    named = schema["components"]["responses"]
    for component, body, _, _ in RESPONSES.values():
        content = named[component]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{body}"}
        assert content["examples"], component
        if body == "Error":
            for example in content["examples"].values():
                jsonschema.validate(example["value"], as_jsonschema({"$ref": body}, schema))
    for method, path, op in operations(schema):
        codes = ["400", "401", "403", "404", "429"]
        codes += ["413", "415"] if "requestBody" in op else []
        for code in codes:
            ref = op["responses"][code].get("$ref", "")
            assert ref == f"#/components/responses/{RESPONSES[code][0]}", (method, path, code)


def test_every_webhook_event_is_a_callback(schema: dict[str, Any]) -> None:
    callbacks = schema["paths"]["/api/v1/webhooks/"]["post"]["callbacks"]
    assert set(callbacks) == set(EVENTS)
    for event, callback in callbacks.items():
        post = callback["{$request.body#/url}"]["post"]
        assert event in post["summary"]
        for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            assert header in post["description"]
        assert "CXCRM_WEBHOOK_RETRY_SCHEDULE" in post["description"]
        content = post["requestBody"]["content"]["application/json"]
        body = as_jsonschema(content["schema"], schema)
        for example in content["examples"].values():
            jsonschema.validate(example["value"], body)
            assert example["value"]["type"] == event


def payload(name: str, data: dict[str, Any]) -> Any:
    # Encoded as cxcrm.webhooks.events encodes what it sends (Django's JSON encoder).
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return {"type": name, "timestamp": "2026-12-01T09:30:00+00:00", "data": data}


def test_documented_payloads_match_what_is_sent(schema: dict[str, Any]) -> None:
    callbacks = schema["paths"]["/api/v1/webhooks/"]["post"]["callbacks"]

    def body(event: str) -> Any:
        post = callbacks[event]["{$request.body#/url}"]["post"]
        return as_jsonschema(post["requestBody"]["content"]["application/json"]["schema"], schema)

    ticket = TicketFactory()
    answer = ResponseFactory()
    jsonschema.validate(payload("ticket.created", ticket_data(ticket)), body("ticket.created"))
    jsonschema.validate(
        payload("response.created", response_data(answer)), body("response.created")
    )
    # The documented fields are the sent ones, no more, no fewer.
    ticket_fields = schema["components"]["schemas"]["TicketEventData"]["properties"]
    response_fields = schema["components"]["schemas"]["ResponseEventData"]["properties"]
    assert set(ticket_fields) == set(ticket_data(ticket))
    assert set(response_fields) == set(response_data(answer))


def test_getting_started_is_public_and_linked(client: Client, schema: dict[str, Any]) -> None:
    page = client.get("/api/getting-started/")
    assert page.status_code == 200
    html = page.content.decode()
    for step in ("An API key", "Your first purchase", "Your first answer", "A webhook"):
        assert step in html
    assert "/api/v1/interactions/" in html and "webhook-signature" in html
    assert "/api/getting-started/" in schema["info"]["description"]


def external_references(html: str) -> list[str]:
    # src= and href= of resources (links to read elsewhere are <a>, which load nothing).
    return [
        url
        for tag, url in re.findall(r"<(script|link|img)[^>]*?(?:src|href)=\"([^\"]+)\"", html)
        if url.startswith(("http:", "https:", "//"))
    ]


@pytest.mark.parametrize("path", ["/api/redoc/", "/api/docs/", "/api/getting-started/"])
def test_docs_pages_load_nothing_from_elsewhere(client: Client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert external_references(page.content.decode()) == []


def test_only_redoc_may_start_a_worker_from_a_blob(client: Client) -> None:
    redoc = client.get("/api/redoc/")["Content-Security-Policy"]
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    assert re.search(r"worker-src [^;]*blob:", redoc)
    assert "blob:" not in docs
    assert "fonts.googleapis" not in client.get("/api/redoc/").content.decode()
