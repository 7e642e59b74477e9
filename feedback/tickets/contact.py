"""When a staff reply counts as the customer's first contact: once its email is accepted.

A reply is queued (feedback.surveys.services.outbox) and sent by a task; if the server refuses
it or is down, the customer got nothing, so the SLA clock must keep running. The outbox
announces each accepted email (``outbound_email_accepted``, feedback.tickets.receivers) and the
reply's contact is recorded here, at the time of acceptance, whichever try it was.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from feedback.tickets import events
from feedback.tickets.models import MessageDirection, TicketMessage, TicketStatus
from feedback.tickets.services import ticket_locked, ticket_mark_contacted


@transaction.atomic
def ticket_reply_accepted(*, ticket_id: int, message_id: str, accepted_at: datetime) -> bool:
    """Record the first contact of the reply with this Message-ID; False if it names no reply
    of this ticket. A later reply's acceptance changes nothing (contact was made before)."""
    if not message_id:
        return False
    reply = (
        TicketMessage.objects.filter(
            ticket_id=ticket_id, direction=MessageDirection.OUTBOUND, message_id=message_id
        )
        .select_related("author")
        .first()
    )
    if reply is None:
        return False
    ticket = ticket_locked(ticket_id)
    if ticket.first_contact_at is None or ticket.status == TicketStatus.NEW:
        ticket_mark_contacted(ticket, reply.author, accepted_at, "email reply")
        events.ticket_updated(ticket)
    return True
