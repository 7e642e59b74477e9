"""Dispatch: the database is the queue of record (the loop, step 2).

A worker claims due invitations in batches (``scheduled`` → ``sending`` with a lease), sends the
batch over one connection and records each outcome as soon as it is known, so a worker killed
mid-batch re-sends at most the one message it was sending. A claim older than the lease returns
to ``scheduled``; nothing scheduled is ever lost.

Losing the database mid-batch (a crash-restart, a failover) must cost seconds, not the lease.
The sending task itself knows, better than any timer, what it holds: which claim (its time and
its worker, ``host:pid``), which email the server accepted whose state it could not write, and
which email rows it has not written yet. So it catches the database's error, waits for the
database with a bounded backoff and hands everything back at once: the accepted email recorded
as sent, the rest of the claim returned to ``scheduled``, then it carries on sending. The lease
remains for workers that die with their claims (killed, out of memory); its release runs on its
own ``maintenance`` queue so it never waits behind sending tasks, and the one email of each dead
claim that may have been on the wire is recorded as an attempt that was possibly delivered.
Every email of an invitation carries the Message-ID drawn when it was made, so a repeat after a
lost reply is the same message for the servers that can drop it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import SuppressionReason
from customers.services import customer_suppress
from cxcrm.mail import Mailer, Outcome, SendResult
from feedback.surveys import signals
from feedback.surveys.backends import delivered_status
from feedback.surveys.emails import (
    build_invitation_message,
    new_message_id,
    render_invitation,
)
from feedback.surveys.models import (
    EmailKind,
    EmailStatus,
    Invitation,
    InvitationState,
    OutboundEmail,
)

log = logging.getLogger(__name__)

# The database went away (connection refused or reset, server restarting): worth waiting for.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# The cache key of the last dispatch error, shown on the admin's system status page.
LAST_ERROR_KEY = "cxcrm:dispatch:last-error"


def worker_identity() -> str:
    """Who holds a claim: this host and process. With the claim's time it names one batch."""
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def dispatch_error_note(error: str) -> None:
    """Remember the last dispatch error for operators (a cache entry: it must work while the
    database is the thing that failed, and it must never fail the dispatch itself)."""
    try:
        cache.set(
            LAST_ERROR_KEY,
            {"at": timezone.now().isoformat(), "error": error[:1000], "worker": worker_identity()},
            timeout=7 * 86400,
        )
    except Exception:
        log.exception("could not note the dispatch error")


def dispatch_last_error() -> dict[str, str] | None:
    return cache.get(LAST_ERROR_KEY)


@dataclass
class ClaimProgress:
    """What a batch knows that the database may not yet: the claim it holds, the email rows it
    has not written, and the one email the server accepted whose invitation is not yet marked
    sent. On losing the database this is what the task hands back (invitations_recover_claim)."""

    claimed_at: datetime
    claimed_by: str = ""
    emails: list[OutboundEmail] = field(default_factory=list)
    accepted: tuple[Invitation, OutboundEmail] | None = None


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchStats) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.deferred += other.deferred
        self.failed += other.failed
        self.skipped += other.skipped


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: base × 2^(attempts−1), capped, scaled by 50–100 %.

    The jitter spreads a burst of deferred messages so they do not all retry in one second."""
    base = float(settings.CXCRM_DISPATCH_RETRY_BASE_SECONDS)
    cap = float(settings.CXCRM_DISPATCH_RETRY_MAX_SECONDS)
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    jitter = (rng or random).uniform(0.5, 1.0)
    return timedelta(seconds=delay * jitter)


def invitations_release_stale(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Return claims older than the lease to the queue (their worker died or hung).

    A batch sends in (scheduled_for, id) order and records each outcome before the next
    send, so of a dead claim's invitations still ``sending`` only the first may have been on
    the wire: that one gets an attempt row flagged ``possibly_delivered``; the others were
    never tried. Rows are locked (SKIP LOCKED on PostgreSQL) so two releasers never flag one
    attempt twice."""
    now = now or timezone.now()
    lease = timedelta(seconds=int(settings.CXCRM_DISPATCH_LEASE_SECONDS))
    with transaction.atomic():
        stale = Invitation.objects.filter(
            state=InvitationState.SENDING, claimed_at__lt=now - lease
        ).order_by("claimed_at", "claimed_by", "scheduled_for", "id")
        if connection.vendor == "postgresql":
            stale = stale.select_for_update(skip_locked=True, of=("self",))
        rows = list(stale.select_related("survey", "customer")[:limit])
        if not rows:
            return 0
        firsts: dict[tuple[datetime | None, str], Invitation] = {}
        for invitation in rows:
            firsts.setdefault((invitation.claimed_at, invitation.claimed_by), invitation)
        released = Invitation.objects.filter(
            id__in=[row.pk for row in rows], state=InvitationState.SENDING
        ).update(state=InvitationState.SCHEDULED, claimed_at=None, claimed_by="", updated_at=now)
        for invitation in firsts.values():
            _record_unknown_attempt(
                invitation,
                error="its worker stopped while holding the claim; the server may have "
                "accepted this email",
                now=now,
            )
    for (claimed_at, claimed_by), invitation in firsts.items():
        log.warning(
            "recovered a stale claim of %s made at %s: invitations returned to the queue, "
            "invitation %s recorded as possibly delivered",
            claimed_by or "an unknown worker",
            claimed_at.isoformat() if claimed_at else "?",
            invitation.pk,
        )
    log.warning("released %d stale invitation claims", released)
    return released


def _record_unknown_attempt(invitation: Invitation, *, error: str, now: datetime) -> None:
    """An attempt whose outcome nobody saw: counted, and its row flagged possibly delivered."""
    Invitation.objects.filter(pk=invitation.pk).update(
        attempts=invitation.attempts + 1, last_error=error[:1000]
    )
    _email_row(
        invitation,
        kind=EmailKind.SURVEY,
        status=EmailStatus.DEFERRED,
        message_id=invitation.message_id,
        subject=render_invitation(invitation).subject,
        text="",
        html="",
        headers={"Message-ID": invitation.message_id},
        error=error,
        now=now,
        possibly_delivered=True,
    ).save(force_insert=True)


def invitations_due_count(*, now: datetime | None = None, cap: int = 100_000) -> int:
    now = now or timezone.now()
    due = Invitation.objects.filter(state=InvitationState.SCHEDULED, scheduled_for__lte=now)
    return due.values("id")[:cap].count()


def invitations_claim(
    *, limit: int, now: datetime | None = None, claimed_by: str = ""
) -> tuple[list[int], datetime]:
    """Claim up to ``limit`` due invitations for this worker; returns their ids and the claim time.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent workers take disjoint
    batches without waiting on each other. SQLite: the transaction takes the write lock up front
    (IMMEDIATE), so claims are serialised. Either way the conditional UPDATE only moves rows that
    are still ``scheduled``, and its row count is checked against what was selected.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = Invitation.objects.filter(
            state=InvitationState.SCHEDULED, scheduled_for__lte=now
        ).order_by("scheduled_for", "id")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return [], now
        claimed = Invitation.objects.filter(id__in=ids, state=InvitationState.SCHEDULED).update(
            state=InvitationState.SENDING, claimed_at=now, claimed_by=claimed_by, updated_at=now
        )
        if claimed != len(ids):
            # Someone else moved some of them between our read and our write: keep only the
            # rows this claim really holds.
            ids = list(
                Invitation.objects.filter(
                    id__in=ids, state=InvitationState.SENDING, claimed_at=now
                ).values_list("id", flat=True)
            )
    return ids, now


def _claimed(claimed_at: datetime) -> QuerySet[Invitation]:
    """The invitations this claim still holds. Built once per batch and narrowed to one id per
    message (``.filter(pk=…)``), so each conditional update does not resolve the claim's
    conditions again."""
    return Invitation.objects.filter(state=InvitationState.SENDING, claimed_at=claimed_at)


def _email_row(
    invitation: Invitation,
    *,
    kind: str,
    status: str,
    message_id: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str],
    error: str = "",
    now: datetime,
    possibly_delivered: bool = False,
) -> OutboundEmail:
    return OutboundEmail(
        to_email=invitation.customer.email,
        from_email=settings.DEFAULT_FROM_EMAIL[:254],
        subject=subject[:255],
        kind=kind,
        status=status,
        message_id=message_id,
        body_text=text,
        body_html=html,
        headers=headers,
        error=error,
        possibly_delivered=possibly_delivered,
        customer_id=invitation.customer_id,
        invitation=invitation,
        sent_at=now if status in (EmailStatus.SENT, EmailStatus.OUTBOX) else None,
    )


def _record_email(invitation: Invitation, **fields: Any) -> None:
    _email_row(invitation, **fields).save(force_insert=True)


def _record_sent(
    invitation: Invitation, ours: QuerySet[Invitation], email: OutboundEmail, *, tries: int = 1
) -> int:
    """Mark one invitation sent right after the server accepted it: this conditional update is
    what keeps a restarted worker from sending it again. Its email row is written with the
    batch's (invitations_send_claimed)."""
    now = email.sent_at or timezone.now()
    updated = ours.filter(pk=invitation.pk).update(
        state=InvitationState.SENT,
        sent_at=now,
        claimed_at=None,
        claimed_by="",
        attempts=invitation.attempts + tries,
        message_id=email.message_id,
        last_error="",
        updated_at=now,
    )
    if updated:
        signals.invitation_sent.send(sender=Invitation, invitation_id=invitation.pk, sent_at=now)
    return updated


def _apply_failure(
    invitation: Invitation,
    result: SendResult,
    ours: QuerySet[Invitation],
    now: datetime,
    *,
    tries: int = 1,
) -> str:
    """Defer or fail one invitation after an unsuccessful send; returns the email status."""
    attempts = invitation.attempts + tries
    max_attempts = int(settings.CXCRM_DISPATCH_MAX_ATTEMPTS)
    if result.outcome is Outcome.TRANSIENT and attempts < max_attempts:
        ours.filter(pk=invitation.pk).update(
            state=InvitationState.SCHEDULED,
            scheduled_for=now + retry_delay(attempts),
            claimed_at=None,
            claimed_by="",
            attempts=attempts,
            last_error=result.error,
            updated_at=now,
        )
        return EmailStatus.DEFERRED
    ours.filter(pk=invitation.pk).update(
        state=InvitationState.FAILED,
        claimed_at=None,
        claimed_by="",
        attempts=attempts,
        last_error=result.error,
        updated_at=now,
    )
    if result.hard_bounce:
        customer_suppress(
            customer_id=invitation.customer_id,
            reason=SuppressionReason.HARD_BOUNCE,
            detail=result.error,
        )
        return EmailStatus.BOUNCED
    return EmailStatus.FAILED


def invitations_send_claimed(
    *,
    ids: list[int],
    claimed_at: datetime,
    now: datetime | None = None,
    progress: ClaimProgress | None = None,
) -> DispatchStats:
    """Send claimed invitations over one connection, recording each outcome as it happens.
    ``now`` fixes the clock for a replayed history (the demo data); by default it runs.
    ``progress`` is kept up to date so that, if the database fails mid-batch, the caller can
    hand back what the database missed (invitations_recover_claim)."""
    at = now
    progress = progress or ClaimProgress(claimed_at=claimed_at)
    stats = DispatchStats(claimed=len(ids))
    invitations = list(
        Invitation.objects.filter(id__in=ids, state=InvitationState.SENDING, claimed_at=claimed_at)
        .select_related("survey", "customer")
        .order_by("scheduled_for", "id")
    )
    stats.skipped += len(ids) - len(invitations)
    if not invitations:
        return stats
    # The batch's email rows go in one INSERT at its end, instead of one per email: the
    # invitation's own state is what must be recorded as each email goes. When sending raised,
    # they are written too, unless the database is what failed: then they wait in ``progress``.
    emails = progress.emails
    ours = _claimed(claimed_at)
    try:
        with Mailer() as mailer:
            status_when_sent = delivered_status(mailer.backend)
            for invitation in invitations:
                now = at or timezone.now()
                customer = invitation.customer
                if not customer.is_reachable:
                    ours.filter(pk=invitation.pk).update(
                        state=InvitationState.SUPPRESSED,
                        claimed_at=None,
                        claimed_by="",
                        updated_at=now,
                    )
                    stats.skipped += 1
                    continue
                if invitation.expires_at and invitation.expires_at <= now:
                    ours.filter(pk=invitation.pk).update(
                        state=InvitationState.EXPIRED,
                        claimed_at=None,
                        claimed_by="",
                        updated_at=now,
                    )
                    stats.skipped += 1
                    continue
                if not invitation.message_id:
                    # Made before Message-IDs were drawn up front: draw it now, stored before
                    # the first attempt like everyone else's.
                    invitation.message_id = new_message_id()
                    Invitation.objects.filter(pk=invitation.pk).update(
                        message_id=invitation.message_id
                    )
                rendered = render_invitation(invitation)
                # Every attempt of an invitation is the same email: the same Message-ID.
                message_id = invitation.message_id
                message = build_invitation_message(
                    invitation, rendered, message_id=message_id, kind=EmailKind.SURVEY
                )
                message.cxcrm_recorded = True  # type: ignore[attr-defined]
                result = mailer.send(message)
                now = at or timezone.now()
                headers = {k: str(v) for k, v in message.extra_headers.items()}
                tries = 1
                if result.lost_reply:
                    # The first try's connection dropped before the server's reply: it may
                    # have been kept, and what follows may be a repeat of it.
                    tries = 2
                    emails.append(
                        _email_row(
                            invitation,
                            kind=EmailKind.SURVEY,
                            status=EmailStatus.DEFERRED,
                            message_id=message_id,
                            subject=rendered.subject,
                            text="",
                            html="",
                            headers=headers,
                            error=result.lost_reply,
                            now=now,
                            possibly_delivered=True,
                        )
                    )
                    emails[-1].sent_at = None
                email = _email_row(
                    invitation,
                    kind=EmailKind.SURVEY,
                    status=status_when_sent,
                    message_id=message_id,
                    subject=rendered.subject,
                    # Survey emails are rendered again from their invitation when staff look
                    # at them (feedback.admin): storing ~11 KB of identical template per email
                    # would double what each send writes to the database.
                    text="",
                    html="",
                    headers=headers,
                    error=result.error,
                    now=now,
                )
                if result.ok:
                    emails.append(email)
                    progress.accepted = (invitation, email)
                    _record_sent(invitation, ours, email, tries=tries)
                    progress.accepted = None
                    stats.sent += 1
                    continue
                email.status = _apply_failure(invitation, result, ours, now, tries=tries)
                if email.status == EmailStatus.DEFERRED:
                    stats.deferred += 1
                else:
                    stats.failed += 1
                if len(stats.errors) < 5:
                    stats.errors.append(result.error)
                email.sent_at = None
                emails.append(email)
    except DATABASE_ERRORS:
        raise
    except BaseException:
        _save_emails(progress)
        raise
    _save_emails(progress)
    return stats


def _save_emails(progress: ClaimProgress) -> None:
    OutboundEmail.objects.bulk_create(progress.emails)
    progress.emails.clear()


# How long a sending task waits for a lost database before leaving its claim to the lease, and
# how many times one task recovers: both keep it inside its time limit (tasks.send_due).
RECOVERY_WAIT_SECONDS = 60.0
MAX_RECOVERIES = 2


def invitations_dispatch(
    *, batch_size: int | None = None, time_budget: float | None = None
) -> DispatchStats:
    """Claim and send batches until nothing is due or the time budget is spent.

    If the database fails mid-batch, wait for it, hand the claim back and go on with a fresh
    budget: the backlog the outage left is due now, and this task is already running."""
    batch_size = batch_size or int(settings.CXCRM_DISPATCH_BATCH_SIZE)
    budget = time_budget if time_budget is not None else settings.CXCRM_DISPATCH_TIME_BUDGET
    identity = worker_identity()
    started = timezone.now()
    total = DispatchStats()
    recoveries = 0
    while True:
        progress = ClaimProgress(claimed_at=timezone.now(), claimed_by=identity)
        try:
            ids, claimed_at = invitations_claim(
                limit=batch_size, now=progress.claimed_at, claimed_by=identity
            )
            if not ids:
                break
            total.add(invitations_send_claimed(ids=ids, claimed_at=claimed_at, progress=progress))
        except DATABASE_ERRORS as exc:
            recoveries += 1
            total.errors.append(f"database: {exc}"[:1000])
            recovered = invitations_recover_claim(progress=progress, error=exc)
            if recovered is None or recoveries >= MAX_RECOVERIES:
                break
            total.sent += recovered
            started = timezone.now()
            continue
        if (timezone.now() - started).total_seconds() >= budget:
            break
    return total


def invitations_recover_claim(
    *,
    progress: ClaimProgress,
    error: BaseException,
    wait: float = RECOVERY_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int | None:
    """Hand a claim back after losing the database: wait for it (bounded backoff with jitter),
    then in one transaction record the email the server accepted as sent, write the batch's
    unwritten email rows and return the rest of the claim to ``scheduled``. Returns how many
    were recorded as sent, or None if the database did not come back in ``wait`` seconds (the
    lease then releases the claim)."""
    log.warning(
        "dispatch lost the database (%s); handing back the claim of %s made at %s",
        error,
        progress.claimed_by,
        progress.claimed_at.isoformat(),
    )
    dispatch_error_note(f"database unavailable: {error}")
    deadline = time.monotonic() + wait
    delay = 0.25
    while True:
        # The broken connection must not be reused; the next query opens a new one. Inside
        # a caller's transaction the connection is the caller's to close.
        if not connection.in_atomic_block:
            connection.close()
        try:
            sent, released = _recover_claim_once(progress)
            progress.emails, progress.accepted = [], None
        except DATABASE_ERRORS:
            if time.monotonic() + delay > deadline:
                log.error(
                    "the database did not come back within %.0f s; the claim of %s made at %s "
                    "waits for its lease",
                    wait,
                    progress.claimed_by,
                    progress.claimed_at.isoformat(),
                )
                return None
            sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 4.0)
            continue
        log.warning(
            "recovered the claim of %s made at %s: %d accepted email(s) recorded as sent, "
            "%d invitation(s) returned to the queue",
            progress.claimed_by,
            progress.claimed_at.isoformat(),
            sent,
            released,
        )
        return sent


@transaction.atomic
def _recover_claim_once(progress: ClaimProgress) -> tuple[int, int]:
    ours = Invitation.objects.filter(
        state=InvitationState.SENDING,
        claimed_at=progress.claimed_at,
        claimed_by=progress.claimed_by,
    )
    sent = 0
    if progress.accepted is not None:
        invitation, email = progress.accepted
        sent = _record_sent(invitation, ours, email)
    OutboundEmail.objects.bulk_create(progress.emails)
    released = ours.update(
        state=InvitationState.SCHEDULED, claimed_at=None, claimed_by="", updated_at=timezone.now()
    )
    return sent, released


# --- Reminders and expiry ---------------------------------------------------------------------


def invitations_remind_due(*, now: datetime | None = None, limit: int = 500) -> DispatchStats:
    """One reminder to customers who were sent a survey N days ago and have not answered.

    Each reminder is claimed by setting ``reminded_at`` with a conditional update, so two
    workers never remind the same customer twice; a temporary failure clears the claim again."""
    now = now or timezone.now()
    candidates = list(
        Invitation.objects.filter(
            state=InvitationState.SENT,
            reminded_at__isnull=True,
            survey__reminder_after_days__isnull=False,
            customer__unsubscribed_at__isnull=True,
            customer__suppressed_at__isnull=True,
            customer__erased_at__isnull=True,
        )
        .exclude(customer__email="")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("survey", "customer")
        .order_by("sent_at")[:limit]
    )
    stats = DispatchStats()
    due = [
        inv
        for inv in candidates
        if inv.sent_at
        and inv.survey.reminder_after_days is not None
        and inv.sent_at + timedelta(days=inv.survey.reminder_after_days) <= now
    ]
    if not due:
        return stats
    with Mailer() as mailer:
        status_when_sent = delivered_status(mailer.backend)
        for invitation in due:
            claimed = Invitation.objects.filter(
                pk=invitation.pk, state=InvitationState.SENT, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                stats.skipped += 1
                continue
            stats.claimed += 1
            rendered = render_invitation(invitation, reminder=True)
            message_id = new_message_id()
            message = build_invitation_message(
                invitation, rendered, message_id=message_id, kind=EmailKind.REMINDER
            )
            # Thread the reminder under the original email.
            if invitation.message_id:
                message.extra_headers["In-Reply-To"] = invitation.message_id
                message.extra_headers["References"] = invitation.message_id
            message.cxcrm_recorded = True  # type: ignore[attr-defined]
            result = mailer.send(message)
            if result.ok:
                status = status_when_sent
                stats.sent += 1
            elif result.outcome is Outcome.TRANSIENT:
                Invitation.objects.filter(pk=invitation.pk).update(reminded_at=None)
                status = EmailStatus.DEFERRED
                stats.deferred += 1
            else:
                if result.hard_bounce:
                    customer_suppress(
                        customer_id=invitation.customer_id,
                        reason=SuppressionReason.HARD_BOUNCE,
                        detail=result.error,
                    )
                status = EmailStatus.BOUNCED if result.hard_bounce else EmailStatus.FAILED
                stats.failed += 1
            _record_email(
                invitation,
                kind=EmailKind.REMINDER,
                status=status,
                message_id=message_id,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                headers={k: str(v) for k, v in message.extra_headers.items()},
                error=result.error,
                now=timezone.now(),
            )
    return stats


def invitations_expire_due(*, now: datetime | None = None) -> int:
    """Close invitations past their expiry: unanswered ones, and ones that never went out."""
    now = now or timezone.now()
    return Invitation.objects.filter(
        state__in=(InvitationState.SENT, InvitationState.SCHEDULED), expires_at__lte=now
    ).update(state=InvitationState.EXPIRED, claimed_at=None, updated_at=now)
