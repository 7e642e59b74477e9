"""/u/<token>/: a GET changes nothing, a POST (button or RFC 8058 one-click) opts out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feedback.surveys.models import InvitationState
from tests.factories import CustomerFactory, InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation():  # type: ignore[no-untyped-def]
    return InvitationFactory(
        state=InvitationState.SENT, sent_at=timezone.now(), customer=CustomerFactory(language="pl")
    )


def test_get_and_head_show_a_confirmation_and_change_nothing(invitation) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    url = f"/u/{invitation.token}/"
    assert client.head(url).status_code == 200
    for _ in range(3):
        page = client.get(url)
        assert page.status_code == 200
    assert "Wypisać się z ankiet?" in page.content.decode()  # in the customer's language
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is None


def test_button_post_unsubscribes_and_cancels_scheduled_invitations(invitation) -> None:  # type: ignore[no-untyped-def]
    pending = InvitationFactory(
        customer=invitation.customer, scheduled_for=timezone.now() + timedelta(days=1)
    )
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/u/{invitation.token}/")
    token = page.cookies["csrftoken"].value
    done = client.post(f"/u/{invitation.token}/", {"csrfmiddlewaretoken": token})
    assert done.status_code == 200
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is not None
    pending.refresh_from_db()
    assert pending.state == InvitationState.CANCELLED


def test_button_post_without_csrf_token_is_refused(invitation) -> None:  # type: ignore[no-untyped-def]
    response = Client(enforce_csrf_checks=True).post(f"/u/{invitation.token}/", {})
    assert response.status_code == 403
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is None


def test_rfc8058_one_click_post_needs_no_csrf_token(invitation) -> None:  # type: ignore[no-untyped-def]
    response = Client(enforce_csrf_checks=True).post(
        f"/u/{invitation.token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is not None


def test_resubscribe(invitation) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.post(f"/u/{invitation.token}/")
    assert client.get(f"/u/{invitation.token}/resubscribe/").status_code == 200
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is not None  # GET changed nothing
    assert client.post(f"/u/{invitation.token}/resubscribe/").status_code == 200
    invitation.customer.refresh_from_db()
    assert invitation.customer.unsubscribed_at is None


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 500, "%00abc", "a.b;c"])
def test_unknown_or_malformed_token_is_a_clear_404(token: str) -> None:
    response = Client().get(f"/u/{token}/")
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_unsupported_method_is_405(invitation) -> None:  # type: ignore[no-untyped-def]
    assert Client().put(f"/u/{invitation.token}/").status_code == 405
