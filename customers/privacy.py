"""Personal data: export everything held about a customer, erase it, retention, audit trail.

Erasure removes what identifies the person (identity, free text, email copies) and keeps what
the metrics need (scores, categories, dates, touchpoints, segment), so NPS and the loop KPIs
stay true after a customer is forgotten.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.models import AuditAction, AuditEntry, Customer

ERASED_TEXT = "[erased]"


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: object,
    summary: str = "",
    channel: str = "admin",
) -> AuditEntry:
    is_user = getattr(actor, "pk", None) is not None
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_label=(actor.get_username() if is_user else str(actor or "system"))[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        summary=summary[:255],
        channel=channel,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_export(
    *, customer_id: int, actor: Any = None, channel: str = "admin"
) -> dict[str, Any]:
    """Everything held about one customer, as JSON-ready data (right of access)."""
    from feedback.models import InboundEmail, Invitation, OutboundEmail, Response, Ticket
    from touchpoints.models import Interaction

    customer = Customer.objects.get(pk=customer_id)
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("touchpoint", "root_cause")
        .prefetch_related("messages", "events")
    )
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "customer": {
            "id": customer.pk,
            "external_id": customer.external_id,
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "language": customer.language,
            "country": customer.country,
            "segment": customer.segment,
            "tags": customer.tags,
            "attributes": customer.attributes,
            "unsubscribed_at": _iso(customer.unsubscribed_at),
            "suppressed_at": _iso(customer.suppressed_at),
            "suppression_reason": customer.suppression_reason,
            "erased_at": _iso(customer.erased_at),
            "created_at": _iso(customer.created_at),
        },
        "interactions": [
            {
                "id": i.pk,
                "touchpoint": i.touchpoint.name,
                "occurred_at": _iso(i.occurred_at),
                "source": i.source,
                "external_id": i.external_id,
                "order_ref": i.order_ref,
                "amount": str(i.amount) if i.amount is not None else None,
                "currency": i.currency,
                "metadata": i.metadata,
            }
            for i in Interaction.objects.filter(customer=customer).select_related("touchpoint")
        ],
        "invitations": [
            {
                "id": inv.pk,
                "survey": inv.survey.name,
                "state": inv.state,
                "scheduled_for": _iso(inv.scheduled_for),
                "sent_at": _iso(inv.sent_at),
                "reminded_at": _iso(inv.reminded_at),
            }
            for inv in Invitation.objects.filter(customer=customer).select_related("survey")
        ],
        "responses": [
            {
                "id": r.pk,
                "survey": r.survey.name,
                "kind": r.kind,
                "score": r.score,
                "category": r.category,
                "comment": r.comment,
                "answers": r.answers,
                "history": r.history,
                "channel": r.channel,
                "submitted_at": _iso(r.submitted_at),
            }
            for r in Response.objects.filter(customer=customer).select_related("survey")
        ],
        "tickets": [
            {
                "id": t.pk,
                "subject": t.subject,
                "status": t.status,
                "touchpoint": t.touchpoint.name if t.touchpoint else None,
                "created_at": _iso(t.created_at),
                "resolved_at": _iso(t.resolved_at),
                "root_cause": t.root_cause.name if t.root_cause else None,
                "resolution": t.resolution,
                "messages": [
                    {
                        "direction": m.direction,
                        "body": m.body,
                        "from_email": m.from_email,
                        "created_at": _iso(m.created_at),
                    }
                    for m in t.messages.all()
                    if m.direction != "note"  # internal notes are staff's working papers
                ],
                "events": [
                    {
                        "action": e.action,
                        "from": e.from_value,
                        "to": e.to_value,
                        "at": _iso(e.created_at),
                    }
                    for e in t.events.all()
                ],
            }
            for t in tickets
        ],
        "emails_sent": [
            {
                "to": e.to_email,
                "subject": e.subject,
                "kind": e.kind,
                "status": e.status,
                "sent_at": _iso(e.sent_at),
                "body_text": e.body_text,
            }
            for e in OutboundEmail.objects.filter(customer=customer)
        ],
        "emails_received": [
            {
                "from": e.from_email,
                "subject": e.subject,
                "received_at": _iso(e.received_at),
                "text": e.text,
            }
            for e in InboundEmail.objects.filter(_inbound_of(customer))
        ],
    }
    audit_record(
        actor=actor,
        action=AuditAction.EXPORTED,
        object_type="customer",
        object_id=customer.pk,
        channel=channel,
    )
    return data


def _inbound_of(customer: Customer) -> Any:
    from django.db.models import Q

    condition = Q(invitation__customer=customer) | Q(ticket__customer=customer)
    if customer.email:
        condition |= Q(from_email__iexact=customer.email)
    return condition


@transaction.atomic
def customer_erase(*, customer_id: int, actor: Any = None, channel: str = "admin") -> Customer:
    """Right to erasure: remove personal data everywhere, keep anonymous scores. Idempotent."""
    from feedback.models import (
        InboundEmail,
        Invitation,
        InvitationState,
        OutboundEmail,
        Response,
        Ticket,
        TicketMessage,
    )
    from touchpoints.models import Interaction

    customer = Customer.objects.select_for_update().get(pk=customer_id)
    now = timezone.now()
    inbound = list(InboundEmail.objects.filter(_inbound_of(customer)).values_list("id", flat=True))
    customer.external_id = None
    customer.email = ""
    customer.name = ""
    customer.phone = ""
    customer.country = ""
    customer.tags = []
    customer.attributes = {}
    customer.unsubscribed_at = customer.unsubscribed_at or now
    customer.erased_at = customer.erased_at or now
    customer.save()
    Interaction.objects.filter(customer=customer).update(metadata={}, order_ref="")
    Invitation.objects.filter(customer=customer, state=InvitationState.SCHEDULED).update(
        state=InvitationState.CANCELLED, last_error="The customer's data was erased."
    )
    Response.objects.filter(customer=customer).update(comment="", answers={}, history=[])
    tickets = Ticket.objects.filter(customer=customer)
    for ticket_id in tickets.values_list("id", flat=True):
        Ticket.objects.filter(pk=ticket_id).update(
            subject=f"Ticket #{ticket_id} (customer erased)", resolution=""
        )
    TicketMessage.objects.filter(ticket__customer=customer).update(body=ERASED_TEXT, from_email="")
    OutboundEmail.objects.filter(customer=customer).update(
        to_email="", subject=ERASED_TEXT, body_text="", body_html="", headers={}, error=""
    )
    InboundEmail.objects.filter(pk__in=inbound).update(
        from_email="", to="", envelope_to="", subject=ERASED_TEXT, raw=b"", text="", note=""
    )
    _scrub_admin_log(customer, list(tickets.values_list("id", flat=True)))
    audit_record(
        actor=actor,
        action=AuditAction.ERASED,
        object_type="customer",
        object_id=customer.pk,
        channel=channel,
    )
    return customer


def _scrub_admin_log(customer: Customer, ticket_ids: list[int]) -> None:
    """Django's admin history keeps each object's name (str()) and the changed fields."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from feedback.models import Ticket

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    ).update(object_repr=f"Erased customer #{customer.pk}", change_message="[]")
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id__in=[str(pk) for pk in ticket_ids],
    ).update(object_repr="Ticket (customer erased)", change_message="[]")


def customers_inactive_since(cutoff: datetime) -> Any:
    """Customers with no interaction, answer or ticket activity since the cutoff."""
    from feedback.models import Response, Ticket
    from touchpoints.models import Interaction

    recent_interaction = Interaction.objects.filter(
        customer=OuterRef("pk"), occurred_at__gte=cutoff
    )
    recent_response = Response.objects.filter(customer=OuterRef("pk"), updated_at__gte=cutoff)
    recent_ticket = Ticket.objects.filter(customer=OuterRef("pk"), updated_at__gte=cutoff)
    return Customer.objects.filter(erased_at__isnull=True, created_at__lt=cutoff).exclude(
        Exists(recent_interaction) | Exists(recent_response) | Exists(recent_ticket)
    )


def customers_erase_inactive(*, now: datetime | None = None, limit: int = 500) -> int:
    """The retention rule: erase customers inactive for CXCRM_RETENTION_MONTHS (0 = keep)."""
    months = int(settings.CXCRM_RETENTION_MONTHS)
    if months <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=30 * months)
    ids = list(customers_inactive_since(cutoff).values_list("id", flat=True)[:limit])
    for customer_id in ids:
        customer_erase(customer_id=customer_id, actor="retention policy", channel="system")
    return len(ids)
