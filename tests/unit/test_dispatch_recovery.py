"""Claims after a hiccup (issue 21): who holds a claim, handing it back when the database
returns, releasing dead workers' claims with their one possibly delivered attempt, one
Message-ID per invitation across attempts, and the system status page."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cxcrm.services import heartbeat_record
from cxcrm.workers import worker_beat_record, worker_beats
from feedback.surveys.models import EmailStatus, Invitation, InvitationState, OutboundEmail
from feedback.surveys.services import dispatch
from feedback.surveys.services.dispatch import (
    ClaimProgress,
    dispatch_error_note,
    dispatch_last_error,
    invitations_claim,
    invitations_dispatch,
    invitations_recover_claim,
    invitations_release_stale,
    worker_identity,
)
from feedback.surveys.services.invitations import invitation_resend
from tests.factories import InvitationFactory, UserFactory
from tests.smtp import SmtpSink, smtp_settings

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink, override_settings(**smtp_settings(sink)):
        yield sink


def due(n: int) -> list[Invitation]:
    at = timezone.now() - timedelta(hours=1)
    return [InvitationFactory(scheduled_for=at + timedelta(seconds=i)) for i in range(n)]


def test_claims_carry_the_worker_host_and_process() -> None:
    due(2)
    ids, _at = invitations_claim(limit=5, claimed_by=worker_identity())
    assert worker_identity() == f"{socket.gethostname()}:{os.getpid()}"
    assert set(Invitation.objects.filter(id__in=ids).values_list("claimed_by", flat=True)) == {
        worker_identity()
    }


def test_message_id_is_drawn_when_the_invitation_is_made(settings) -> None:  # type: ignore[no-untyped-def]
    first, second = due(2)
    assert first.message_id.startswith("<") and first.message_id.endswith(
        f"@{settings.INBOUND_EMAIL_DOMAIN}>"
    )
    assert first.message_id != second.message_id


def test_every_attempt_of_an_invitation_carries_its_message_id(smtp: SmtpSink, settings) -> None:  # type: ignore[no-untyped-def]
    [invitation] = due(1)
    drawn = invitation.message_id
    smtp.defer_for(60)
    invitations_dispatch()
    Invitation.objects.filter(pk=invitation.pk).update(scheduled_for=timezone.now())
    smtp.defer_for(0)
    invitations_dispatch()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SENT and invitation.attempts == 2
    assert [m["Message-ID"] for m in smtp.messages] == [drawn]
    assert list(invitation.emails.values_list("message_id", "status").order_by("id")) == [
        (drawn, EmailStatus.DEFERRED),
        (drawn, EmailStatus.SENT),
    ]


def test_a_resend_is_a_new_email_with_a_new_message_id(smtp: SmtpSink) -> None:
    [invitation] = due(1)
    invitations_dispatch()
    invitation.refresh_from_db()
    first = invitation.message_id
    assert invitation_resend(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.message_id and invitation.message_id != first


def test_a_claim_is_handed_back_when_the_database_returns() -> None:
    invitations = due(4)
    ids, claimed_at = invitations_claim(limit=10, claimed_by="host:1")
    progress = ClaimProgress(claimed_at=claimed_at, claimed_by="host:1")
    # The first email went and was recorded; the server accepted the second, but marking it
    # sent failed with the database; the last two were never tried.
    sent, accepted = invitations[0], invitations[1]
    for invitation in (sent, accepted):
        invitation.refresh_from_db()
    Invitation.objects.filter(pk=sent.pk).update(
        state=InvitationState.SENT,
        sent_at=timezone.now(),
        claimed_at=None,
        claimed_by="",
        attempts=1,
    )
    rows = [
        dispatch._email_row(
            invitation,
            kind="survey",
            status=EmailStatus.SENT,
            message_id=invitation.message_id,
            subject="s",
            text="",
            html="",
            headers={},
            now=timezone.now(),
        )
        for invitation in (sent, accepted)
    ]
    progress.emails.extend(rows)
    progress.accepted = (accepted, rows[1])

    recorded = invitations_recover_claim(
        progress=progress, error=OperationalError("server closed the connection")
    )

    assert recorded == 1
    states = dict(Invitation.objects.filter(id__in=ids).values_list("id", "state"))
    assert states == {
        sent.pk: InvitationState.SENT,
        accepted.pk: InvitationState.SENT,
        invitations[2].pk: InvitationState.SCHEDULED,
        invitations[3].pk: InvitationState.SCHEDULED,
    }
    assert Invitation.objects.get(pk=accepted.pk).attempts == 1
    assert Invitation.objects.filter(claimed_by="").count() == 4
    assert OutboundEmail.objects.count() == 2
    assert progress.emails == [] and progress.accepted is None
    assert "database unavailable" in (dispatch_last_error() or {}).get("error", "")


def test_a_database_that_stays_away_leaves_the_claim_to_the_lease(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    due(2)
    ids, claimed_at = invitations_claim(limit=10, claimed_by="host:1")

    def down(progress: ClaimProgress) -> tuple[int, int]:
        raise OperationalError("connection refused")

    monkeypatch.setattr(dispatch, "_recover_claim_once", down)
    waits: list[float] = []
    progress = ClaimProgress(claimed_at=claimed_at, claimed_by="host:1")
    assert (
        invitations_recover_claim(
            progress=progress, error=OperationalError("x"), wait=3.0, sleep=waits.append
        )
        is None
    )
    # Backoff with jitter, capped; the real clock's deadline ends it (no time passes here, so
    # it ends when the next wait alone would pass the deadline).
    assert len(waits) >= 2 and all(0 < w <= 4.0 for w in waits)
    assert waits[-1] > waits[0]
    assert Invitation.objects.filter(id__in=ids, state=InvitationState.SENDING).count() == 2


def test_a_dead_workers_claims_return_with_one_possibly_delivered_attempt_each(settings) -> None:  # type: ignore[no-untyped-def]
    invitations = due(5)
    long_ago = timezone.now() - timedelta(seconds=settings.CXCRM_DISPATCH_LEASE_SECONDS + 5)
    first, _ = invitations_claim(limit=2, now=long_ago, claimed_by="a:1")
    second, _ = invitations_claim(
        limit=3, now=long_ago + timedelta(microseconds=1), claimed_by="b:2"
    )
    assert invitations_release_stale() == 5
    assert not Invitation.objects.exclude(state=InvitationState.SCHEDULED).exists()
    # Each batch sends in (scheduled_for, id) order and records before the next send: only
    # the first of each claim may have been on the wire.
    flagged = OutboundEmail.objects.filter(possibly_delivered=True)
    assert sorted(flagged.values_list("invitation_id", flat=True)) == [first[0], second[0]]
    assert {e.message_id for e in flagged} == {
        i.message_id for i in invitations if i.pk in (first[0], second[0])
    }
    attempts = dict(Invitation.objects.values_list("id", "attempts"))
    assert attempts == {i.pk: int(i.pk in (first[0], second[0])) for i in invitations}
    assert invitations_release_stale() == 0


def test_system_status_shows_stuck_claims_the_last_error_and_heartbeats(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    due(3)
    invitations_claim(
        limit=3, now=timezone.now() - timedelta(minutes=5), claimed_by="dispatch@box:4242"
    )
    dispatch_error_note("database unavailable: connection refused")
    worker_beat_record(hostname="dispatch@box")
    heartbeat_record(hostname="dispatch@box")
    assert [host for host, _ in worker_beats()] == ["dispatch@box"]
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("system-status")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    # session, user, stuck claims, possibly delivered emails, database heartbeats
    assert len(queries) == 5
    html = page.content.decode()
    assert page.status_code == 200
    assert "dispatch@box:4242" in html and "<td>3</td>" in html
    assert "database unavailable: connection refused" in html
    assert html.count("dispatch@box</td>") == 2
