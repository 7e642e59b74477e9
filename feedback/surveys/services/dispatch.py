"""Dispatch: the database is the queue of record (the loop, step 2).

A worker claims due invitations in batches (``scheduled`` → ``sending`` with a lease), sends the
batch over one connection and records each outcome as soon as it is known, so a worker killed
mid-batch re-sends at most the one message it was sending. A claim older than the lease returns
to ``scheduled``; nothing scheduled is ever lost.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
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


def invitations_release_stale(*, now: datetime | None = None) -> int:
    """Return claims older than the lease to the queue (their worker died or hung)."""
    now = now or timezone.now()
    lease = timedelta(seconds=int(settings.CXCRM_DISPATCH_LEASE_SECONDS))
    released = Invitation.objects.filter(
        state=InvitationState.SENDING, claimed_at__lt=now - lease
    ).update(state=InvitationState.SCHEDULED, claimed_at=None, updated_at=now)
    if released:
        log.warning("released %d stale invitation claims", released)
    return released


def invitations_due_count(*, now: datetime | None = None, cap: int = 100_000) -> int:
    now = now or timezone.now()
    due = Invitation.objects.filter(state=InvitationState.SCHEDULED, scheduled_for__lte=now)
    return due.values("id")[:cap].count()


def invitations_claim(*, limit: int, now: datetime | None = None) -> tuple[list[int], datetime]:
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
            state=InvitationState.SENDING, claimed_at=now, updated_at=now
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
        customer_id=invitation.customer_id,
        invitation=invitation,
        sent_at=now if status in (EmailStatus.SENT, EmailStatus.OUTBOX) else None,
    )


def _record_email(invitation: Invitation, **fields: Any) -> None:
    _email_row(invitation, **fields).save(force_insert=True)


def _record_sent(invitation: Invitation, ours: QuerySet[Invitation], email: OutboundEmail) -> None:
    """Mark one invitation sent right after the server accepted it: this conditional update is
    what keeps a restarted worker from sending it again. Its email row is written with the
    batch's (invitations_send_claimed)."""
    now = email.sent_at or timezone.now()
    ours.filter(pk=invitation.pk).update(
        state=InvitationState.SENT,
        sent_at=now,
        claimed_at=None,
        attempts=invitation.attempts + 1,
        message_id=email.message_id,
        last_error="",
        updated_at=now,
    )
    signals.invitation_sent.send(sender=Invitation, invitation_id=invitation.pk, sent_at=now)


def _apply_failure(
    invitation: Invitation, result: SendResult, ours: QuerySet[Invitation], now: datetime
) -> str:
    """Defer or fail one invitation after an unsuccessful send; returns the email status."""
    attempts = invitation.attempts + 1
    max_attempts = int(settings.CXCRM_DISPATCH_MAX_ATTEMPTS)
    if result.outcome is Outcome.TRANSIENT and attempts < max_attempts:
        ours.filter(pk=invitation.pk).update(
            state=InvitationState.SCHEDULED,
            scheduled_for=now + retry_delay(attempts),
            claimed_at=None,
            attempts=attempts,
            last_error=result.error,
            updated_at=now,
        )
        return EmailStatus.DEFERRED
    ours.filter(pk=invitation.pk).update(
        state=InvitationState.FAILED,
        claimed_at=None,
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
    *, ids: list[int], claimed_at: datetime, now: datetime | None = None
) -> DispatchStats:
    """Send claimed invitations over one connection, recording each outcome as it happens.
    ``now`` fixes the clock for a replayed history (the demo data); by default it runs."""
    at = now
    stats = DispatchStats(claimed=len(ids))
    invitations = list(
        Invitation.objects.filter(id__in=ids, state=InvitationState.SENDING, claimed_at=claimed_at)
        .select_related("survey", "customer")
        .order_by("scheduled_for", "id")
    )
    stats.skipped += len(ids) - len(invitations)
    if not invitations:
        return stats
    # The batch's email rows go in one INSERT at its end (also when sending raised), instead of
    # one per email: the invitation's own state is what must be recorded as each email goes.
    emails: list[OutboundEmail] = []
    ours = _claimed(claimed_at)
    with Mailer() as mailer, _saved_at_exit(emails):
        status_when_sent = delivered_status(mailer.backend)
        for invitation in invitations:
            now = at or timezone.now()
            customer = invitation.customer
            if not customer.is_reachable:
                ours.filter(pk=invitation.pk).update(
                    state=InvitationState.SUPPRESSED, claimed_at=None, updated_at=now
                )
                stats.skipped += 1
                continue
            if invitation.expires_at and invitation.expires_at <= now:
                ours.filter(pk=invitation.pk).update(
                    state=InvitationState.EXPIRED, claimed_at=None, updated_at=now
                )
                stats.skipped += 1
                continue
            rendered = render_invitation(invitation)
            # A retried email keeps its Message-ID: it is the same email, tried again.
            message_id = invitation.message_id or new_message_id()
            message = build_invitation_message(
                invitation, rendered, message_id=message_id, kind=EmailKind.SURVEY
            )
            message.cxcrm_recorded = True  # type: ignore[attr-defined]
            result = mailer.send(message)
            now = at or timezone.now()
            email = _email_row(
                invitation,
                kind=EmailKind.SURVEY,
                status=status_when_sent,
                message_id=message_id,
                subject=rendered.subject,
                # Survey emails are rendered again from their invitation when staff look at
                # them (feedback.admin): storing ~11 KB of identical template per email would
                # double what each send writes to the database.
                text="",
                html="",
                headers={k: str(v) for k, v in message.extra_headers.items()},
                error=result.error,
                now=now,
            )
            if result.ok:
                _record_sent(invitation, ours, email)
                emails.append(email)
                stats.sent += 1
                continue
            if not invitation.message_id:
                Invitation.objects.filter(pk=invitation.pk).update(message_id=message_id)
            email.status = _apply_failure(invitation, result, ours, now)
            if email.status == EmailStatus.DEFERRED:
                stats.deferred += 1
            else:
                stats.failed += 1
            if len(stats.errors) < 5:
                stats.errors.append(result.error)
            email.sent_at = None
            emails.append(email)
    return stats


@contextmanager
def _saved_at_exit(emails: list[OutboundEmail]) -> Iterator[None]:
    try:
        yield
    finally:
        OutboundEmail.objects.bulk_create(emails)


def invitations_dispatch(
    *, batch_size: int | None = None, time_budget: float | None = None
) -> DispatchStats:
    """Claim and send batches until nothing is due or the time budget is spent."""
    batch_size = batch_size or int(settings.CXCRM_DISPATCH_BATCH_SIZE)
    budget = time_budget if time_budget is not None else settings.CXCRM_DISPATCH_TIME_BUDGET
    started = timezone.now()
    total = DispatchStats()
    while True:
        ids, claimed_at = invitations_claim(limit=batch_size)
        if not ids:
            break
        total.add(invitations_send_claimed(ids=ids, claimed_at=claimed_at))
        if (timezone.now() - started).total_seconds() >= budget:
            break
    return total


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
