"""API keys, error handling (400/401/403/404/413/415, never a 500), throttling and the docs."""

from __future__ import annotations

import base64
from datetime import timedelta
from io import StringIO
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.exceptions import BadRequest
from django.core.management import call_command
from django.http import Http404
from django.test import override_settings
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from cxcrm.api.keys import api_key_create, api_key_revoke, hash_secret
from cxcrm.models import ApiKey
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.factories import CustomerFactory, TicketFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


# --- Keys ---------------------------------------------------------------------------------------


def test_a_key_is_stored_as_a_hash_and_found_by_prefix() -> None:
    made = api_key_create(name="shop", scopes="read")
    _, prefix, secret = made.key.split("_", 2)

    stored = ApiKey.objects.get()
    assert stored.prefix == prefix and len(prefix) == 8
    assert stored.secret_hash == hash_secret(secret)
    assert secret not in str(ApiKey.objects.values().get())
    assert _client(made.key).get("/api/v1/customers/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer cx_abcdefgh_wrong", "Bearer nonsense", "Bearer", "Bearer a b", "Bearer cx_\u00e9_x"],
)
def test_bad_keys_are_401(header: str) -> None:
    api_key_create(name="shop", scopes="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    reply = client.get("/api/v1/customers/")

    assert reply.status_code == 401
    assert reply["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_with_a_real_prefix_is_401() -> None:
    made = api_key_create(name="shop", scopes="read")
    forged = made.key[:-4] + ("AAAA" if not made.key.endswith("AAAA") else "BBBB")

    assert _client(forged).get("/api/v1/customers/").status_code == 401


def test_a_revoked_key_stops_working_at_once() -> None:
    made = api_key_create(name="shop", scopes="read,write")
    client = _client(made.key)
    assert client.get("/api/v1/customers/").status_code == 200

    api_key_revoke(api_key_id=made.api_key.pk)

    assert client.get("/api/v1/customers/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute() -> None:
    made = api_key_create(name="shop", scopes="read")
    client = _client(made.key)

    client.get("/api/v1/customers/")
    first = ApiKey.objects.get().last_used_at
    client.get("/api/v1/customers/")
    assert ApiKey.objects.get().last_used_at == first

    ApiKey.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get("/api/v1/customers/")
    assert ApiKey.objects.get().last_used_at > first


def test_write_implies_read_and_unknown_scopes_are_refused() -> None:
    assert api_key_create(name="a", scopes="write").api_key.scopes == ["read", "write"]
    with pytest.raises(ValueError):
        api_key_create(name="b", scopes="admin")


def test_create_api_key_command_prints_the_key_alone_on_the_last_line() -> None:
    out, err = StringIO(), StringIO()

    call_command(
        "create_api_key", "--name", "shop", "--scopes", "read,write", stdout=out, stderr=err
    )

    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("cx_") and " " not in key
    assert (
        _client(key).post("/api/v1/customers/", {"external_id": "x"}, format="json").status_code
        == 201
    )


def test_staff_sessions_get_the_browsable_api(staff_client: Any) -> None:
    page = staff_client.get("/api/v1/customers/", HTTP_ACCEPT="text/html")

    assert page.status_code == 200
    assert b"<html" in page.content


def test_a_non_staff_session_sees_nothing(db: Any) -> None:
    from tests.factories import UserFactory

    client = APIClient()
    client.force_login(UserFactory(username="not-staff", is_staff=False, password=None))

    # A signed-in non-staff user is not an API principal at all.
    assert client.get("/api/v1/customers/").status_code == 401


# --- Errors -------------------------------------------------------------------------------------


def test_wrong_content_type_is_415(write_client: Any) -> None:
    reply = write_client.post(
        "/api/v1/customers/", "external_id=x", content_type="application/x-www-form-urlencoded"
    )

    assert reply.status_code == 415
    assert "detail" in reply.json()


@override_settings(CXCRM_API_MAX_BODY_BYTES=2048)
def test_oversized_body_is_413_json(write_client: Any) -> None:
    reply = write_client.post(
        "/api/v1/customers/", {"external_id": "x", "name": "n" * 5000}, format="json"
    )

    assert reply.status_code == 413
    assert "detail" in reply.json()


@pytest.mark.parametrize(
    "body",
    [
        b'{"external_id": "a\\u0000b"}',
        b'{"external_id": "x", "attributes": {"k\\u0000": 1}}',
        b'{"external_id": ',
        b"\xff\xfe garbage",
        b'{"external_id": "x", "attributes": {"n": NaN}}',
    ],
)
def test_nul_bytes_and_malformed_json_are_400(write_client: Any, body: bytes) -> None:
    reply = write_client.post("/api/v1/customers/", body, content_type="application/json")

    assert reply.status_code == 400
    assert "detail" in reply.json()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * 900 + b'"\\u0000"' + b"}" * 900,
        b'{"external_id": "x", "attributes": ' + b"[" * 65 + b"]" * 65 + b"}",
        b'{"external_id": "x", "attributes": {"n": 1e999}}',
        b'{"external_id": "x", "attributes": {"n": -1e999}}',
    ],
    ids=["brackets", "nul-deep-inside", "too-deep", "inf", "minus-inf"],
)
def test_deep_nesting_and_numbers_out_of_range_are_400_json(write_client: Any, body: bytes) -> None:
    write_client.raise_request_exception = False
    reply = write_client.post("/api/v1/customers/", body, content_type="application/json")

    assert reply.status_code == 400
    assert "detail" in reply.json()


def test_attributes_nested_to_the_limit_are_stored(write_client: Any) -> None:
    deep = b"[" * 62 + b"1" + b"]" * 62  # 64 levels with the two objects
    body = b'{"external_id": "deep", "attributes": {"a": ' + deep + b"}}"

    reply = write_client.post("/api/v1/customers/", body, content_type="application/json")

    assert reply.status_code == 201, reply.content[:300]


def _bulk_of(size: int) -> bytes:
    """A bulk interactions body of exactly ``size`` bytes: 1,000 items, then JSON whitespace."""
    item = (
        b'{"customer_external_id": "c-1", "touchpoint": "store", "source": "t", '
        b'"external_id": "e-%04d", '
        b'"occurred_at": "2026-01-01T10:00:00Z", "order_ref": "'
    )
    items = [item % n + b"o" * 60 + b'"}' for n in range(1000)]
    head = b"[" + b", ".join(items)
    tail = b"]"
    return head + b" " * (size - len(head) - len(tail)) + tail


def test_bodies_up_to_the_api_limit_pass_and_larger_ones_are_413_json(
    write_client: Any, settings: Any
) -> None:
    # Between Django's 2.5 MB default DATA_UPLOAD_MAX_MEMORY_SIZE and our 5 MB limit, bodies
    # used to stop at Django's 400 HTML page before the parser ran.
    limit = settings.CXCRM_API_MAX_BODY_BYTES
    assert 2_621_440 < limit <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    CustomerFactory(external_id="c-1")
    TouchpointFactory(slug="store")
    url = "/api/v1/interactions/"

    at_limit = write_client.post(url, _bulk_of(limit), content_type="application/json")
    over = write_client.post(url, _bulk_of(limit + 1), content_type="application/json")

    assert at_limit.status_code == 200, at_limit.content[:300]
    assert len(at_limit.json()["results"]) == 1000
    assert over.status_code == 413 and "larger than" in over.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_a_body_over_djangos_own_limit_is_413_json_too(write_client: Any) -> None:
    body = b'{"external_id": "x", "name": "' + b"n" * 5000 + b'"}'

    reply = write_client.post("/api/v1/customers/", body, content_type="application/json")

    assert reply.status_code == 413
    assert "detail" in reply.json()


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


CURSOR_LISTS = ["interactions", "invitations", "responses", "tickets", "webhook-deliveries"]


@pytest.mark.parametrize("resource", CURSOR_LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        _cursor("p=abc"),
        _cursor("o=1&r=1&p=x"),
        _cursor("p=\x00"),
        _cursor("p=1e999"),
        _cursor("o=-1"),
        _cursor("p=99999999999999999999"),
    ],
)
def test_a_malformed_cursor_is_400_on_every_cursor_paged_list(
    read_client: Any, resource: str, cursor: str
) -> None:
    read_client.raise_request_exception = False

    reply = read_client.get(f"/api/v1/{resource}/", {"cursor": cursor})

    # A huge position fits no id, but is a well-formed cursor: an empty page.
    assert reply.status_code in ((200,) if "OTk5" in cursor else (400,))
    assert "detail" in reply.json() or "results" in reply.json()


@pytest.mark.parametrize("resource", ["customers", "tickets"])
@pytest.mark.parametrize("size", ["0", "-5", "1001", "²", "x", "99999999999999999999"])
def test_a_page_size_out_of_range_is_400(read_client: Any, resource: str, size: str) -> None:
    reply = read_client.get(f"/api/v1/{resource}/", {"page_size": size})

    assert reply.status_code == 400
    assert "page_size" in reply.json()


def test_a_cursor_for_another_ordering_is_400(read_client: Any) -> None:
    TicketFactory()
    TicketFactory()
    first = read_client.get("/api/v1/tickets/", {"ordering": "created_at", "page_size": 1})
    cursor = first.json()["next"].split("cursor=")[1].split("&")[0]

    # A date position against the id ordering.
    reply = read_client.get("/api/v1/tickets/", {"cursor": unquote(cursor), "page_size": 1})

    assert reply.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/customers/abc/", "/api/x"])
def test_unknown_api_paths_are_404_json(read_client: Any, path: str) -> None:
    reply = read_client.get(path)

    assert reply.status_code == 404
    assert reply.json() == {"detail": "Not found."}


def test_djangos_error_pages_are_json_under_api_and_html_elsewhere(rf: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from cxcrm.api import exceptions

    api, page = rf.get("/api/v1/customers/"), rf.get("/admin/")

    for request, json in ((api, True), (page, False)):
        answers = [
            exceptions.bad_request(request, BadRequest("NUL characters are not allowed.")),
            exceptions.permission_denied(request, PermissionDenied()),
            exceptions.page_not_found(request, Http404()),
            exceptions.server_error(request),
        ]
        assert [a.status_code for a in answers] == [400, 403, 404, 500]
        for answer in answers:
            assert answer["Content-Type"].startswith("application/json") is json
    assert b"NUL characters" in exceptions.bad_request(api, BadRequest("NUL characters")).content


def test_a_nul_in_an_api_query_string_is_400_json(read_client: Any) -> None:
    reply = read_client.get("/api/v1/tickets/", {"q\x00": "1"})

    assert reply.status_code == 400
    assert "NUL" in reply.json()["detail"]


def test_nul_in_a_query_string_is_400(read_client: Any) -> None:
    assert read_client.get("/api/v1/customers/", {"email": "a\x00b"}).status_code == 400


def _api_routes() -> list[str]:
    """Every list and detail URL of /api/v1/, with ids filled in."""
    from cxcrm.urls import router

    urls = []
    for prefix, _viewset, _basename in router.registry:
        urls.append(f"/api/v1/{prefix}/")
        if prefix != "metrics":  # the only resource without a detail route
            urls.append(f"/api/v1/{prefix}/1/")
    for action in ("assign", "resolve", "reopen", "messages"):
        urls.append(f"/api/v1/tickets/1/{action}/")
    assert get_resolver()  # the URLconf loads
    return urls


GARBAGE: list[Any] = [
    None,
    [],
    [None],
    [[1]],
    {},
    {"id": -1, "customer": 2**80, "score": "x", "survey": [], "touchpoint": {"a": 1}},
    {"external_id": ["a"], "occurred_at": 3, "events": "x", "url": "javascript:alert(1)"},
    "\u202e",
    1e308,
    {"kind": "reply", "body": 7, "assignee": {"x": 1}, "root_cause": "1 OR 1=1"},
]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_garbage_to_every_endpoint_is_never_a_500(write_client: Any, method: str) -> None:
    CustomerFactory()
    TouchpointFactory()
    TicketFactory()
    for url in _api_routes():
        for body in GARBAGE:
            reply = getattr(write_client, method)(url, body, format="json")
            assert reply.status_code < 500, (method, url, body, reply.content[:300])
            if reply.status_code != 204:  # a delete's answer has no body to type
                assert reply["Content-Type"].startswith("application/json"), (url, body)


def test_garbage_query_strings_are_never_a_500(read_client: Any) -> None:
    params = {
        "customer": "x",
        "survey": "-1",
        "status": "nope",
        "priority": "99",
        "score_min": "1e9",
        "created_after": "yesterday",
        "ordering": "secret_hash",
        "cursor": "not-a-cursor",
        "page": "999",
        "page_size": "-5",
        "reachable": "maybe",
    }
    for url in [u for u in _api_routes() if u.count("/") == 4]:
        for key, value in params.items():
            reply = read_client.get(url, {key: value})
            assert reply.status_code < 500, (url, key, reply.content[:300])


# --- Throttling and docs ------------------------------------------------------------------------


def test_each_key_has_its_own_rate(monkeypatch: Any) -> None:
    from cxcrm.api.throttling import ApiKeyRateThrottle

    # The class reads its rates once, at import; patch them for this test only.
    rates = {**ApiKeyRateThrottle.THROTTLE_RATES, "api_key": "3/minute"}
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", rates)
    first = _client(api_key_create(name="a", scopes="read").key)
    second = _client(api_key_create(name="b", scopes="read").key)

    codes = [first.get("/api/v1/touchpoints/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert second.get("/api/v1/touchpoints/").status_code == 200


def test_schema_and_docs_are_served_offline(client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")
    redoc = client.get("/api/redoc/")

    assert schema.status_code == 200
    assert "/api/v1/interactions/" in schema.json()["paths"]
    assert docs.status_code == redoc.status_code == 200
    # Swagger UI and ReDoc come from our own static files (drf-spectacular-sidecar).
    assert b"/static/drf_spectacular_sidecar/" in docs.content
    assert b"/static/drf_spectacular_sidecar/" in redoc.content
    assert b"cdn.jsdelivr" not in docs.content + redoc.content
