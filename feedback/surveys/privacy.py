"""A customer's invitations, answers and emails in the privacy services (export, erasure,
retention), and cancelling what was not sent when they may no longer be contacted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef
from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import ERASED_TEXT, admin_log_scrub, iso
from customers.signals import (
    customer_activity,
    customer_contact_stopped,
    customer_erasing,
    customer_exporting,
)
from feedback.surveys.models import (
    EmailKind,
    Invitation,
    InvitationState,
    OutboundEmail,
    Response,
)
from feedback.surveys.services.invitations import invitations_cancel_for_customer


@receiver(customer_exporting, sender=Customer, dispatch_uid="surveys-export")
def surveys_export(sender: Any, customer: Customer, **kwargs: Any) -> dict[str, Any]:
    return {
        "invitations": [
            {
                "id": inv.pk,
                "survey": inv.survey.name,
                "state": inv.state,
                "scheduled_for": iso(inv.scheduled_for),
                "sent_at": iso(inv.sent_at),
                "reminded_at": iso(inv.reminded_at),
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
                "submitted_at": iso(r.submitted_at),
            }
            for r in Response.objects.filter(customer=customer).select_related("survey")
        ],
        "emails_sent": [
            {
                "to": e.to_email,
                "subject": e.subject,
                "kind": e.kind,
                "status": e.status,
                "sent_at": iso(e.sent_at),
                "body_text": e.body_text,
            }
            # Staff alerts about them are staff's working papers, addressed to staff.
            for e in OutboundEmail.objects.filter(customer=customer).exclude(kind=EmailKind.ALERT)
        ],
    }


@receiver(customer_erasing, sender=Customer, dispatch_uid="surveys-erase")
def surveys_erase(sender: Any, customer: Customer, **kwargs: Any) -> None:
    # Scores, categories and dates stay: the metrics count them.
    invitations = Invitation.objects.filter(customer=customer)
    invitations.filter(state=InvitationState.SCHEDULED).update(
        state=InvitationState.CANCELLED, last_error="The customer's data was erased."
    )
    # A bounce's error quotes the address.
    invitations.exclude(last_error="").update(last_error="The customer's data was erased.")
    responses = Response.objects.filter(customer=customer)
    responses.update(comment="", answers={}, history=[])
    # Every email about them: those to them, and staff alerts about their answer or ticket.
    emails = OutboundEmail.objects.filter(customer=customer)
    emails.update(
        to_email="", subject=ERASED_TEXT, body_text="", body_html="", headers={}, error=""
    )
    # Their names in the admin's history name the customer (an invitation's, an email's).
    admin_log_scrub(Invitation, invitations, label="Invitation (customer erased)")
    admin_log_scrub(Response, responses, label="Response (customer erased)")
    admin_log_scrub(OutboundEmail, emails, label="Email (customer erased)")


@receiver(customer_activity, sender=Customer, dispatch_uid="surveys-activity")
def answers_since(sender: Any, cutoff: datetime, **kwargs: Any) -> list[Exists]:
    return [Exists(Response.objects.filter(customer=OuterRef("pk"), updated_at__gte=cutoff))]


@receiver(customer_contact_stopped, sender=Customer, dispatch_uid="surveys-contact-stopped")
def invitations_cancel(sender: Any, customer: Customer, reason: str, **kwargs: Any) -> None:
    invitations_cancel_for_customer(customer=customer, reason=reason)
