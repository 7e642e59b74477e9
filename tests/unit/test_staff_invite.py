"""Inviting staff by email from the users' admin (cxcrm.staff_admin): the set-password email
goes out in the invitee's language, and the message counts in real plural forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from cxcrm.models import StaffPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USERS = reverse("admin:auth_user_changelist")


def _invite(client: Client, *users: Any, **headers: str) -> list[str]:
    response = client.post(
        USERS,
        {"action": "invite_by_email", "_selected_action": [u.pk for u in users]},
        **headers,
    )
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_invitation_is_in_the_invitees_language_not_the_admins(admin_client: Client) -> None:
    zofia = UserFactory(username="zofia", email="zofia@example.com", password=None)
    StaffPreference.objects.create(user=zofia, language="pl")
    john = UserFactory(username="john", email="john@example.com", password=None)

    # The Admin's browser asks for Russian; neither invitee chose it.
    _invite(admin_client, zofia, john, HTTP_ACCEPT_LANGUAGE="ru")

    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert set(subjects) == {"zofia@example.com", "john@example.com"}
    assert "Reset" in subjects["john@example.com"]  # the site's language: English
    assert "Reset" not in subjects["zofia@example.com"]
    assert "hasła" in subjects["zofia@example.com"]


def test_the_message_counts_sent_and_skipped_invitations(admin_client: Client) -> None:
    one = UserFactory(username="one", email="one@example.com", password=None)
    two = UserFactory(username="two", email="two@example.com", password=None)
    nobody = UserFactory(username="nobody", email="", password=None)

    assert _invite(admin_client, one)[-1] == "Sent 1 invitation."
    # (Messages not yet shown on a page stay in the list: the newest is last.)
    assert (
        _invite(admin_client, one, two, nobody)[-1]
        == "Sent 2 invitations. 1 skipped: no email address, or inactive."
    )
