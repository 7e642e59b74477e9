"""Signing in goes through Django's sessions and Django's and allauth's own backends."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_product_uses_the_stock_session_engine_and_backends() -> None:
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.AUTHENTICATION_BACKENDS == [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ]


def test_email_sign_in_keeps_a_database_session_that_a_password_change_ends() -> None:
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
    assert client.session["_auth_user_backend"] == (
        "allauth.account.auth_backends.AuthenticationBackend"
    )
    assert Session.objects.filter(session_key=client.session.session_key).exists()
    assert client.get(reverse("admin:index")).status_code == 200
    # The session holds the password's hash: a change elsewhere signs this browser out.
    user = get_user_model().objects.get(username="ops")
    user.set_password("other-pass-456!")
    user.save()
    assert client.get(reverse("admin:index")).status_code == 302


def test_an_inactive_user_cannot_sign_in() -> None:
    cache.clear()
    UserFactory(email="gone@staff.example.com", is_active=False, password="long-pass-123!")
    client = Client()
    client.post(
        "/accounts/login/", {"login": "gone@staff.example.com", "password": "long-pass-123!"}
    )
    assert not client.session.get("_auth_user_id")
