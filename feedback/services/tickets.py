"""Writes on tickets: the conversation and the status changes it causes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from feedback.services.loop import ticket_event_record
from feedback.tickets.models import MessageDirection, Ticket, TicketMessage, TicketStatus

# A customer's reply wakes these up: a closed case gets looked at again, and "pending customer"
# means we were waiting for exactly this.
REOPENED_BY_REPLY = {
    TicketStatus.RESOLVED: "Reopened by the customer's reply",
    TicketStatus.CLOSED: "Reopened by the customer's reply",
    TicketStatus.PENDING: "The customer replied",
}


@transaction.atomic
def ticket_message_receive(
    *,
    ticket_id: int,
    body: str,
    from_email: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    now: datetime | None = None,
) -> TicketMessage:
    """Add the customer's message to the ticket; a resolved, closed or pending ticket opens.

    The ticket row is locked so that a reply racing a staff member's status change cannot be
    overwritten by (or overwrite) it.
    """
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    message = TicketMessage.objects.create(
        ticket=ticket,
        direction=MessageDirection.INBOUND,
        from_email=from_email[:254],
        body=body,
        message_id=message_id[:255],
        in_reply_to=in_reply_to[:255],
        created_at=now,
    )
    note = REOPENED_BY_REPLY.get(TicketStatus(ticket.status)) if ticket.status else None
    if note:
        old = ticket.status
        ticket.status = TicketStatus.OPEN
        # Only resolved and closed tickets must carry resolved_at (a check constraint); the root
        # cause and resolution stay as a record of the earlier attempt.
        ticket.resolved_at = None
        ticket.save(update_fields=["status", "resolved_at", "updated_at"])
        ticket_event_record(
            ticket,
            "status",
            from_value=old,
            to_value=TicketStatus.OPEN.value,
            note=note,
        )
    return message
