"""cxcrm.backends: Django's and allauth's sign-in backends, the signed-in user read by a
prepared statement on PostgreSQL; the same user as the ORM reads, the same refusals."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cxcrm.backends import AuthenticationBackend, ModelBackend
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_product_signs_in_through_them() -> None:
    assert settings.AUTHENTICATION_BACKENDS == [
        "cxcrm.backends.ModelBackend",
        "cxcrm.backends.AuthenticationBackend",
    ]


@pytest.mark.parametrize("backend", [ModelBackend(), AuthenticationBackend()])
def test_get_user_reads_what_the_orm_reads(backend: ModelBackend) -> None:
    user = UserFactory(username="zoë", first_name="Zoë", email="z@example.com", is_staff=True)

    with CaptureQueriesContext(connection) as ctx:
        found = backend.get_user(user.pk)

    assert len(ctx) == 1
    orm = get_user_model().objects.get(pk=user.pk)
    fields = [f.attname for f in orm._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert found._state.adding is False and found._state.db == "default"
    assert found.get_session_auth_hash() == orm.get_session_auth_hash()
    assert backend.get_user(user.pk + 1000) is None


def test_an_inactive_user_is_not_signed_in() -> None:
    user = UserFactory(is_active=False)
    assert ModelBackend().get_user(user.pk) is None


def test_signing_in_with_email_and_password_then_using_the_admin() -> None:
    from django.core.cache import cache

    cache.clear()  # allauth's rate limits live in the cache
    UserFactory(
        username="ops",
        email="ops@staff.example.com",
        is_staff=True,
        is_superuser=True,
        password="long-pass-123!",
    )
    client = Client()
    reply = client.post(
        "/accounts/login/", {"login": "ops@staff.example.com", "password": "long-pass-123!"}
    )
    assert reply.status_code == 302
    assert client.session["_auth_user_backend"] == "cxcrm.backends.AuthenticationBackend"
    assert client.get(reverse("admin:index")).status_code == 200
    # A password change elsewhere ends the session (its hash no longer matches).
    user = get_user_model().objects.get(username="ops")
    user.set_password("other-pass-456!")
    user.save()
    assert client.get(reverse("admin:index")).status_code == 302
