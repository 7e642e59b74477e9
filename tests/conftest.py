from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _private_cache(settings) -> None:  # type: ignore[no-untyped-def]
    """Each test gets an empty in-memory cache: rate limits and cached answers of one test (or
    of the running product's file cache under var/) never leak into another."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "fragments": settings.CACHES["fragments"],
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="boss", is_superuser=True)


@pytest.fixture
def admin_client(superuser) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(superuser)
    return client
