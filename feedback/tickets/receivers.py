"""The ticket loop's receivers: translate the surveys' signals into ticket work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from cxcrm.tasking import enqueue_on_commit
from feedback.surveys.models import EmailKind, OutboundEmail, Response
from feedback.surveys.signals import outbound_email_accepted, response_changed
from feedback.tickets.contact import ticket_reply_accepted
from feedback.tickets.tasks import ticket_for_response


@receiver(response_changed, sender=Response, dispatch_uid="tickets-answer-changed")
def on_response_changed(sender: Any, response: Response, **kwargs: Any) -> None:
    # After commit: the task reads the committed answer, and a rolled-back one opens nothing.
    enqueue_on_commit(ticket_for_response, response.pk)


@receiver(outbound_email_accepted, sender=OutboundEmail, dispatch_uid="tickets-email-accepted")
def on_email_accepted(
    sender: Any, email: OutboundEmail, accepted_at: datetime, **kwargs: Any
) -> None:
    # In the sender's transaction: the reply is contact exactly when its email is marked sent.
    if email.kind == EmailKind.TICKET_REPLY and email.ticket_id is not None:
        ticket_reply_accepted(
            ticket_id=email.ticket_id, message_id=email.message_id, accepted_at=accepted_at
        )
