"""Hostile input to the staff pages: digits int() refuses, integers no column holds and NUL
characters are handled (ignored, a 400, or a 404), never a 500, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import (
    CustomerFactory,
    ResponseFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CHANGELIST = reverse("admin:feedback_ticket_changelist")
HUGE = "99999999999999999999"


@pytest.fixture
def boss_client() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="root", is_superuser=True, password=None))
    return client


@pytest.fixture
def ticket() -> Any:
    return TicketFactory(response=ResponseFactory(score=2), touchpoint=TouchpointFactory())


@pytest.mark.parametrize("param", ["assignee", "priority__exact", "touchpoint__id__exact"])
@pytest.mark.parametrize("value", ["²", "①", HUGE, "-" + HUGE])
def test_queue_filters_take_unicode_digits_and_huge_numbers(
    boss_client: Client, ticket: Any, param: str, value: str
) -> None:
    reply = boss_client.get(CHANGELIST, {param: value})

    # The admin's own filters send an unusable value to "?e=1" (its error page); ours ignores it.
    assert reply.status_code in (200, 302), reply.status_code
    if reply.status_code == 302:
        assert reply["Location"].endswith("?e=1")


def test_an_assignee_that_is_not_a_plain_number_is_ignored(
    boss_client: Client, ticket: Any
) -> None:
    page = boss_client.get(CHANGELIST, {"assignee": "²"})

    assert page.status_code == 200
    assert f'value="{ticket.pk}"' in page.content.decode()


def test_nul_in_the_queue_search_is_a_400(boss_client: Client, ticket: Any) -> None:
    reply = boss_client.get(CHANGELIST, {"q": "a\x00b"})

    assert reply.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/feedback/ticket/{HUGE}/change/",
        f"/admin/customers/customer/{HUGE}/change/",
        f"/admin/customers/customer/{HUGE}/history/",
        "/admin/feedback/ticket/²/change/",
    ],
)
def test_admin_pages_of_ids_no_column_holds_are_not_found(boss_client: Client, url: str) -> None:
    reply = boss_client.get(url)

    # The admin answers a missing object by sending the user back to the list with a message.
    assert reply.status_code in (302, 404), reply.status_code


@pytest.mark.parametrize("resource", ["customers", "tickets", "touchpoints", "interactions"])
def test_api_paths_and_filters_with_huge_ids_are_4xx(resource: str) -> None:
    from tests.api_support import key_client

    client = key_client("read")
    client.raise_request_exception = False
    CustomerFactory()

    assert client.get(f"/api/v1/{resource}/{HUGE}/").status_code == 404
    assert client.get(f"/api/v1/{resource}/9223372036854775807/").status_code == 404
    assert client.get(f"/api/v1/{resource}/", {"customer": HUGE}).status_code in (200, 400)


def test_a_nul_in_the_session_cookie_gives_a_fresh_session_not_an_error() -> None:
    # PostgreSQL cannot compare a NUL in text: the session lookup itself used to fail, on
    # every page, for as long as the browser kept the cookie.
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = "abc\x00def" + "x" * 30

    login = client.get(reverse("account_login"))
    home = client.get("/admin/", follow=True)

    assert login.status_code == 200
    assert home.status_code == 200 and "login" in home.redirect_chain[-1][0]


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("2026-06-02T22:22:58+20:29", 200),  # ISO allows it, PostgreSQL's offsets stop at 15:59
        ("0001-01-01T00:00:00+20:00", 400),  # before year 1 once moved to UTC
        ("9999-12-31T23:59:59-20:00", 400),  # after year 9999 once moved to UTC
    ],
)
def test_date_time_filters_with_any_iso_offset_are_answered(since: str, status: int) -> None:
    from tests.api_support import key_client

    client = key_client("read")
    client.raise_request_exception = False

    for resource in ("customers", "tickets", "responses", "interactions"):
        assert client.get(f"/api/v1/{resource}/", {"updated_since": since}).status_code in (
            status,
            200,  # a list without that filter ignores the parameter
        )
    assert client.get("/api/v1/customers/", {"updated_since": since}).status_code == status
