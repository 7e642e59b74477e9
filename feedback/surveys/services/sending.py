"""Sending the outbox: transactional email other than surveys (ticket replies, alerts,
acknowledgements), one row at a time, with retries and a sweep for rows left behind.

The OutboundEmail row is the queue of record: it is written in the caller's transaction with
status ``queued``, a task sends it after commit, and a beat sweep re-enqueues rows that stayed
queued (the broker was down at commit time), so no email is lost between the two.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cxcrm.mail import Mailer, Outcome, SendResult
from cxcrm.text import header_text
from feedback.surveys.backends import delivered_status
from feedback.surveys.models import EmailStatus, OutboundEmail
from feedback.surveys.signals import outbound_email_accepted

log = logging.getLogger(__name__)


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    # Rows queued before subjects were cleaned at queueing may still hold a line break.
    headers = {k: header_text(v) for k, v in email.headers.items() if isinstance(v, str)}
    message = EmailMultiAlternatives(
        subject=header_text(email.subject),
        body=email.body_text,
        from_email=email.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[email.to_email],
        headers=headers,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    message.cxcrm_recorded = True  # type: ignore[attr-defined]
    return message


def outbound_email_send(*, email_id: int, now: datetime | None = None) -> SendResult | None:
    """Send one queued email. Returns None when it is not queued any more (already sent by
    another worker, or failed for good); the status update is conditional, so two workers
    racing on the same row record one outcome. ``now`` is the time of acceptance to record
    (the demo replay sets it; else the clock after the server answered)."""
    email = OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.QUEUED).first()
    if email is None:
        return None
    with Mailer() as mailer:
        result = mailer.send(_message(email))
        status_when_sent = delivered_status(mailer.backend)
    now = now or timezone.now()
    if result.ok:
        # One transaction: what was waiting for this acceptance (a reply's first contact)
        # is recorded together with the status, or neither is.
        with transaction.atomic():
            accepted = OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.QUEUED).update(
                status=status_when_sent, sent_at=now, error=""
            )
            if accepted:
                email.status, email.sent_at, email.error = status_when_sent, now, ""
                outbound_email_accepted.send(sender=OutboundEmail, email=email, accepted_at=now)
    elif result.outcome is Outcome.TRANSIENT:
        OutboundEmail.objects.filter(pk=email_id).update(error=result.error)
    else:
        status = EmailStatus.BOUNCED if result.hard_bounce else EmailStatus.FAILED
        OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.QUEUED).update(
            status=status, error=result.error
        )
    return result


def outbound_email_give_up(*, email_id: int, error: str) -> None:
    OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.QUEUED).update(
        status=EmailStatus.FAILED, error=f"gave up after retries: {error}"[:1000]
    )


def outbound_emails_stuck(
    *, never_tried_for: timedelta, retrying_for: timedelta, now: datetime | None = None
) -> list[int]:
    """Queued emails whose task never ran (the broker was down at commit time) or whose
    retries were lost with the broker: the sweep enqueues them again. An email that failed
    transiently is left to its task's own retries for ``retrying_for`` first, so the sweep
    does not send it a second time alongside a pending retry."""
    now = now or timezone.now()
    never_tried = Q(error="", created_at__lt=now - never_tried_for)
    abandoned = ~Q(error="") & Q(created_at__lt=now - retrying_for)
    return list(
        OutboundEmail.objects.filter(status=EmailStatus.QUEUED)
        .filter(never_tried | abandoned)
        .values_list("id", flat=True)[:1000]
    )
