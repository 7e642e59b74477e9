from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from cxcrm.celery import app
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


@pytest.fixture
def celery_inline(django_capture_on_commit_callbacks: Any) -> Iterator[Callable[[], Any]]:
    """Eager Celery, and the test's on-commit callbacks run: the webhook's task runs in the
    request, as it does in production once the row commits (with a worker, not inline)."""
    app.conf.task_always_eager = True
    try:
        yield lambda: django_capture_on_commit_callbacks(execute=True)
    finally:
        app.conf.task_always_eager = False
