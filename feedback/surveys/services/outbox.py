"""Queueing transactional email (ticket replies, alerts, acknowledgements).

The OutboundEmail row is the queue of record: it is written in the caller's transaction with
status ``queued``, a task sends it after commit (feedback.surveys.services.sending), and a beat
sweep re-enqueues rows that stayed queued (the broker was down at commit time), so no email is
lost between the two.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from cxcrm.tasking import enqueue_on_commit
from cxcrm.text import header_text
from feedback.surveys.emails import new_message_id
from feedback.surveys.models import EmailStatus, OutboundEmail
from feedback.surveys.tasks import send_outbound


def outbound_email_queue(
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    kind: str,
    headers: dict[str, str] | None = None,
    customer_id: int | None = None,
    ticket_id: int | None = None,
    invitation_id: int | None = None,
    message_id: str = "",
    now: datetime | None = None,
) -> OutboundEmail:
    """Record an email to send and enqueue its sending once the transaction commits."""
    message_id = message_id or new_message_id()
    email = OutboundEmail.objects.create(
        to_email=to[:254],
        from_email=settings.DEFAULT_FROM_EMAIL[:254],
        subject=header_text(subject)[:255],
        kind=kind,
        status=EmailStatus.QUEUED,
        message_id=message_id,
        body_text=text,
        body_html=html,
        headers={
            **{name: header_text(value) for name, value in (headers or {}).items()},
            "Message-ID": message_id,
        },
        customer_id=customer_id,
        ticket_id=ticket_id,
        invitation_id=invitation_id,
        created_at=now or timezone.now(),
    )
    enqueue_on_commit(send_outbound, email.pk)
    return email
