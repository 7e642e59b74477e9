"""cxcrm.sessions: Django's database sessions, read through a prepared statement on
PostgreSQL; the same rows, the same answers, interchangeable with Django's backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cxcrm.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_product_uses_it() -> None:
    assert settings.SESSION_ENGINE == "cxcrm.sessions"


def test_reads_what_djangos_backend_wrote_and_the_other_way_round() -> None:
    theirs = db.SessionStore()
    theirs["cart"] = {"items": [1, 2], "note": "ü <b>"}
    theirs.save()
    ours = SessionStore(theirs.session_key)
    assert ours["cart"] == {"items": [1, 2], "note": "ü <b>"}
    ours["seen"] = True
    ours.save()
    again = db.SessionStore(theirs.session_key)
    assert again["seen"] is True and again["cart"]["items"] == [1, 2]


def test_an_expired_or_unknown_key_reads_as_empty_and_is_forgotten() -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    for key in (store.session_key, "no-such-session-key-at-all"):
        read = SessionStore(key)
        assert read.load() == {}
        assert read.session_key is None  # as Django's: not reused when written


def test_read_is_one_query_and_prepared_on_postgresql() -> None:
    store = SessionStore()
    store["a"] = 1
    store.save()
    with CaptureQueriesContext(connection) as ctx:
        assert SessionStore(store.session_key)["a"] == 1
    assert len(ctx) == 1
    assert store.session_key in ctx.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            statements = [row[0] for row in cursor.fetchall()]
        assert any("django_session" in s for s in statements)


def test_sign_in_page_and_sign_out_through_it() -> None:
    user = UserFactory(is_staff=True, is_superuser=True, password="pw-long-enough-1")
    client = Client()
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 200
    client.post(reverse("admin:logout"))
    assert client.get(reverse("admin:index")).status_code == 302
    assert not Session.objects.exists()
