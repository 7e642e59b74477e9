"""While the database cannot be reached: the API answers 503 in its JSON error shape with
Retry-After, every page a short translated 503 page (never a traceback, even with DEBUG on,
never a 500), one WARNING per request; /healthz names what is down.

The outage is simulated with Django's public ``connection.execute_wrapper``: every query
raises the OperationalError psycopg raises when the server refuses the connection. The real
outage (a private PostgreSQL cluster stopped and started) is tests/integration/test_outage.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from cxcrm.api.exceptions import server_error
from cxcrm.celery import app
from cxcrm.unavailable import RETRY_AFTER_SECONDS
from tests.api_support import key_client
from tests.factories import CustomerFactory, InvitationFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: refused'
# The heading of the 503 page in each language (locale/*/LC_MESSAGES/django.po).
HEADINGS = {
    "en": "We can't reach our records right now",
    "ru": "Сейчас нам не удаётся получить доступ к данным",
    "pl": "Nie mamy teraz dostępu do naszych danych",
    "zh-hans": "我们暂时无法读取记录",
    "ar": "يتعذّر علينا الوصول إلى سجلاتنا الآن",
}


def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    raise OperationalError(REFUSED)


@contextmanager
def database_down() -> Iterator[None]:
    with connection.execute_wrapper(refuse):
        yield


def assert_page(reply: Any, language: str = "en") -> None:
    body = reply.content.decode()
    assert reply.status_code == 503
    assert reply["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert reply["Content-Type"].startswith("text/html")
    assert HEADINGS[language] in body
    assert f'lang="{language}"' in body
    assert ('dir="rtl"' in body) == (language == "ar")
    assert "Traceback" not in body and "OperationalError" not in body


def test_api_get_and_post_are_503_json_with_retry_after(settings: Any) -> None:
    settings.DEBUG = True  # no traceback page even so
    TouchpointFactory(slug="checkout")
    client = key_client("read,write")
    purchase = {
        "source": "shop",
        "external_id": "o-1",
        "customer_external_id": "c-1",
        "touchpoint": "checkout",
        "occurred_at": "2025-03-01T10:00:00Z",
    }
    with database_down():
        replies = [
            client.get("/api/v1/customers/"),
            client.post("/api/v1/interactions/", purchase, format="json"),
            client.get("/api/v1/tickets/1/"),
        ]
    for reply in replies:
        assert reply.status_code == 503
        assert reply["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert reply["Content-Type"] == "application/json"
        assert reply.json() == {
            "detail": "The service is temporarily unavailable: try again in a moment."
        }


def test_staff_session_on_the_api_is_503_json() -> None:
    # The session is read by DRF's session authentication: the error surfaces inside DRF.
    client = APIClient()
    client.force_login(UserFactory(is_superuser=True))
    with database_down():
        reply = client.get("/api/v1/customers/")
    assert reply.status_code == 503
    assert set(reply.json()) == {"detail"}


@pytest.mark.parametrize("language", list(HEADINGS))
def test_survey_page_is_the_translated_503_page(language: str, settings: Any) -> None:
    settings.DEBUG = True
    invitation = InvitationFactory(customer=CustomerFactory(language=language))
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    with database_down():
        assert_page(client.get(f"/s/{invitation.token}/?score=9"), language)
        assert_page(client.post(f"/s/{invitation.token}/", {"score": 9}), language)


@pytest.mark.parametrize("path", ["/s/no-such-token/", "/u/no-such-token/", "/accounts/login/"])
def test_other_pages_are_the_503_page(path: str, settings: Any) -> None:
    settings.DEBUG = True
    with database_down():
        assert_page(Client().get(path))


def test_sign_in_post_is_the_503_page() -> None:
    with database_down():
        reply = Client().post("/accounts/login/", {"login": "a@example.com", "password": "x"})
    assert reply.status_code == 503


def test_a_signed_in_visitor_meets_it_while_the_middleware_loads_the_session() -> None:
    # With a session cookie the first query is the session's, before any view runs.
    client = Client(HTTP_ACCEPT_LANGUAGE="pl")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with database_down():
        assert_page(client.get("/admin/"), "pl")


def test_the_language_comes_from_the_cookie_before_accept_language(settings: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    with database_down():
        assert_page(client.get("/s/whatever/"), "ar")


def test_one_warning_per_request_and_no_error_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with database_down():
        Client().get("/s/whatever/")
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in records] == [("cxcrm.unavailable", "WARNING")]
    assert "GET /s/whatever/" in records[0].getMessage()
    assert records[0].exc_info is None


def test_one_warning_per_api_request(caplog: pytest.LogCaptureFixture) -> None:
    client = key_client("read")
    caplog.set_level(logging.INFO)
    with database_down():
        client.get("/api/v1/customers/")
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in records] == [("cxcrm.unavailable", "WARNING")]


def test_django_500_handler_turns_a_database_error_into_the_503() -> None:
    # What reaches handler500 (DEBUG off): a database error raised outside any view, such as
    # a session saved after the view.
    for path, kind in (("/s/x/", "text/html"), ("/api/v1/customers/", "application/json")):
        request = RequestFactory().get(path)
        try:
            raise OperationalError(REFUSED)
        except OperationalError:
            reply = server_error(request)
        assert reply.status_code == 503
        assert reply["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert reply["Content-Type"].startswith(kind)
    request = RequestFactory().get("/s/x/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        assert server_error(request).status_code == 500


def fail_with_a_bug(*args: Any) -> Any:
    raise ValueError("a bug, not an outage")


def test_other_errors_are_not_turned_into_503(settings: Any) -> None:
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(fail_with_a_bug):
        reply = client.get("/s/whatever/")
    assert reply.status_code == 500


def test_schema_documents_503_on_every_operation() -> None:
    schema = Client().get("/api/schema/?format=json").json()
    assert "ServiceUnavailable" in schema["components"]["responses"]
    for item in schema["paths"].values():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                assert "503" in operation["responses"], method


# --- /healthz ----------------------------------------------------------------------------------


def test_healthz_ok_without_a_session_or_auth() -> None:
    reply = Client().get("/healthz")
    assert reply.status_code == 200
    assert reply.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
    }
    assert "Set-Cookie" not in reply.headers
    assert "no-cache" in reply["Cache-Control"]


def test_healthz_names_the_database() -> None:
    with database_down():
        reply = Client().get("/healthz")
    assert reply.status_code == 503
    assert reply["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert reply.json() == {
        "status": "fail",
        "checks": {"database": "fail", "broker": "ok", "cache": "ok"},
    }


def test_healthz_names_a_broken_cache(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:cache-secret@127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 2},
        },
    }
    reply = Client().get("/healthz")
    assert reply.status_code == 503
    assert reply.json()["checks"] == {"database": "ok", "broker": "ok", "cache": "fail"}
    assert b"cache-secret" not in reply.content


def test_healthz_names_a_broken_broker() -> None:
    saved = app.conf.broker_url
    # Port 1 on loopback refuses at once; the password must not reach the answer.
    app.conf.broker_url = "redis://:broker-secret@127.0.0.1:1/0"
    try:
        reply = Client().get("/healthz")
    finally:
        app.conf.broker_url = saved
    assert reply.status_code == 503
    assert reply.json()["checks"] == {"database": "ok", "broker": "fail", "cache": "ok"}
    assert b"broker-secret" not in reply.content


def test_healthz_refuses_writes() -> None:
    assert Client().post("/healthz").status_code == 405
