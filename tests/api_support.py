"""Personas and helpers of the API tests: a read key, a write key, no key, and staff (a
superuser here; tests/unit/test_permission_matrix.py holds each role to its rights)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cxcrm.api.keys import api_key_create
from tests.factories import UserFactory

PERSONAS = ["read_key", "write_key", "no_key", "staff"]


def key_client(scopes: str) -> APIClient:
    # Made by a staff member, as in the admin: the key acts (and signs replies) for them.
    owner = UserFactory(username="key-owner", password=None)
    made = api_key_create(name=f"test {scopes}", scopes=scopes, created_by=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {made.key}")
    return client


@pytest.fixture
def read_client(db: Any) -> APIClient:
    return key_client("read")


@pytest.fixture
def write_client(db: Any) -> APIClient:
    return key_client("read,write")


def staff_member(role: str | None = None) -> Any:
    """A staff user in one of the roles (cxcrm.roles), or a superuser when role is None."""
    user = UserFactory(
        username=f"api-{(role or 'superuser').lower()}", password=None, is_superuser=role is None
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_client(db: Any) -> APIClient:
    client = APIClient()
    client.force_login(staff_member())
    return client


@pytest.fixture
def persona_client(db: Any) -> Callable[[str], APIClient]:
    def make(persona: str) -> APIClient:
        if persona == "read_key":
            return key_client("read")
        if persona == "write_key":
            return key_client("read,write")
        if persona == "staff":
            client = APIClient()
            client.force_login(staff_member())
            return client
        return APIClient()

    return make


# Who may do what: reads need any key or staff; writes need a write key or staff.
CAN_READ = {"read_key": True, "write_key": True, "no_key": False, "staff": True}
CAN_WRITE = {"read_key": False, "write_key": True, "no_key": False, "staff": True}
DENIED = {"read_key": 403, "no_key": 401}


def count_get(client: APIClient, url: str) -> tuple[int, Any]:
    """Queries of one GET, after a first request that warmed the key's last-used time."""
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        reply = client.get(url)
    assert reply.status_code == 200, reply.content[:500]
    return len(ctx), reply


def rows(reply: Any) -> list[dict[str, Any]]:
    return reply.json()["results"]
