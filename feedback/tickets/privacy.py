"""A customer's tickets in the privacy services (export, erasure, retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import ERASED_TEXT, admin_log_scrub, iso
from customers.signals import customer_activity, customer_erasing, customer_exporting
from feedback.tickets.models import MessageDirection, Ticket, TicketEvent, TicketMessage


@receiver(customer_exporting, sender=Customer, dispatch_uid="tickets-export")
def tickets_export(sender: Any, customer: Customer, **kwargs: Any) -> dict[str, Any]:
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("touchpoint", "root_cause")
        .prefetch_related("messages", "events")
    )
    return {
        "tickets": [
            {
                "id": t.pk,
                "subject": t.subject,
                "status": t.status,
                "touchpoint": t.touchpoint.name if t.touchpoint else None,
                "created_at": iso(t.created_at),
                "resolved_at": iso(t.resolved_at),
                "root_cause": t.root_cause.name if t.root_cause else None,
                "resolution": t.resolution,
                "messages": [
                    {
                        "direction": m.direction,
                        "body": m.body,
                        "from_email": m.from_email,
                        "created_at": iso(m.created_at),
                    }
                    for m in t.messages.all()
                    # Internal notes are staff's working papers.
                    if m.direction != MessageDirection.NOTE
                ],
                "events": [
                    {
                        "action": e.action,
                        "from": e.from_value,
                        "to": e.to_value,
                        "at": iso(e.created_at),
                    }
                    for e in t.events.all()
                ],
            }
            for t in tickets
        ]
    }


@receiver(customer_erasing, sender=Customer, dispatch_uid="tickets-erase")
def tickets_erase(sender: Any, customer: Customer, **kwargs: Any) -> None:
    tickets = Ticket.objects.filter(customer=customer)
    # The subject names the customer ("NPS 2 from <name>"); the id keeps tickets apart.
    tickets.update(
        subject=Concat(Value("Ticket #"), Cast("id", CharField()), Value(" (customer erased)")),
        resolution="",
    )
    TicketMessage.objects.filter(ticket__customer=customer).update(body=ERASED_TEXT, from_email="")
    # Events keep what changed and when (machine values); their notes are free text.
    TicketEvent.objects.filter(ticket__customer=customer).exclude(note="").update(note=ERASED_TEXT)
    # A ticket's name in the admin's history is its subject.
    admin_log_scrub(Ticket, tickets, label="Ticket (customer erased)")


@receiver(customer_activity, sender=Customer, dispatch_uid="tickets-activity")
def tickets_since(sender: Any, cutoff: datetime, **kwargs: Any) -> list[Exists]:
    return [Exists(Ticket.objects.filter(customer=OuterRef("pk"), updated_at__gte=cutoff))]
