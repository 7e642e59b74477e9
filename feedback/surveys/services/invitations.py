"""Invitations: which interactions invite whom, and when (the survey rules of the loop, step 1)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.models import Customer
from feedback.surveys.models import Invitation, InvitationState, Survey, invitation_message_id
from feedback.tickets.models import OPEN_TICKET_STATUSES, Ticket
from touchpoints.models import Touchpoint
from touchpoints.services import NewInteraction

# States in which an invitation counts as "we contacted (or will contact) this customer" for the
# contact-frequency rule. Failed, suppressed and cancelled ones never reached the customer.
CONTACTING_STATES = (
    InvitationState.SCHEDULED,
    InvitationState.SENDING,
    InvitationState.SENT,
    InvitationState.RESPONDED,
    InvitationState.EXPIRED,
)


def in_sample(survey: Survey, interaction_id: int) -> bool:
    """Deterministic sampling: the same interaction is always in or out of a survey's sample,
    so a retried request cannot flip the decision."""
    if survey.sample_percent >= 100:
        return True
    digest = hashlib.sha256(f"{survey.pk}:{interaction_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < survey.sample_percent


def frequency_days(survey: Survey) -> int:
    if survey.contact_frequency_days is not None:
        return survey.contact_frequency_days
    return int(settings.CXCRM_CONTACT_FREQUENCY_DAYS)


@transaction.atomic
def invitations_cancel_for_customer(*, customer: Customer, reason: str) -> int:
    """Cancel the customer's invitations that have not gone out yet."""
    return Invitation.objects.filter(customer=customer, state=InvitationState.SCHEDULED).update(
        state=InvitationState.CANCELLED, last_error=reason[:500], updated_at=timezone.now()
    )


@transaction.atomic
def invitation_cancel(*, invitation_id: int, reason: str = "Cancelled by staff") -> bool:
    """Cancel one invitation if it has not been sent; True when it was cancelled."""
    return bool(
        Invitation.objects.filter(pk=invitation_id, state=InvitationState.SCHEDULED).update(
            state=InvitationState.CANCELLED, last_error=reason[:500], updated_at=timezone.now()
        )
    )


@transaction.atomic
def invitation_resend(*, invitation_id: int) -> bool:
    """Put a sent, failed or cancelled invitation back in the queue to go out now.

    A responded or expired invitation is not resent: the customer already answered, or the
    survey closed. The customer must still be reachable."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=invitation_id)
    )
    if invitation.state not in (
        InvitationState.SENT,
        InvitationState.FAILED,
        InvitationState.CANCELLED,
    ):
        return False
    if not invitation.customer.is_reachable:
        return False
    now = timezone.now()
    invitation.state = InvitationState.SCHEDULED
    invitation.scheduled_for = now
    invitation.attempts = 0
    invitation.last_error = ""
    invitation.claimed_at = None
    invitation.sent_at = None
    # A resend is a new email (a new Message-ID); retries of it will share this one.
    invitation.message_id = invitation_message_id()
    if invitation.expires_at and invitation.expires_at <= now:
        invitation.expires_at = now + timedelta(days=invitation.survey.expires_after_days)
    invitation.save()
    return True


# No savepoint of its own when nested (the bulk recording's transaction): a failure here
# fails the whole batch anyway, and a savepoint is two more round trips a batch.
@transaction.atomic(savepoint=False)
def invitations_schedule_for_many(*, interactions: Sequence[NewInteraction]) -> dict[int, int]:
    """Create the invitations new interactions trigger, in the transaction that records them,
    with a fixed number of queries for the whole batch.

    An interaction invites nobody when its customer cannot be emailed (no address,
    unsubscribed, suppressed, erased), has an open ticket, or was invited within the
    contact-frequency window by any survey; otherwise the first active survey triggered by its
    touchpoint or stage whose deterministic sample includes it invites, once (the frequency
    rule would refuse a second).

    Returns {interaction id: invitations created}. Invitations made for earlier interactions of
    the batch count for the contact-frequency rule of later ones, exactly as one by one.
    """
    if not interactions:
        return {}
    surveys = list(Survey.objects.filter(active=True).order_by("id"))
    if not surveys:
        return {}
    triggers: dict[int, set[int]] = {}
    for survey_id, touchpoint_id in Survey.trigger_touchpoints.through.objects.filter(
        survey__active=True
    ).values_list("survey_id", "touchpoint_id"):
        triggers.setdefault(touchpoint_id, set()).add(survey_id)
    # The surveys each touchpoint of the batch triggers, in survey order.
    triggered: dict[int, list[Survey]] = {
        pk: [s for s in surveys if s.pk in triggers.get(pk, ()) or s.trigger_stage == stage]
        for pk, stage in Touchpoint.objects.filter(
            pk__any_of=list({i.touchpoint_id for i in interactions})
        )
        .order_by()
        .values_list("pk", "stage")
    }
    candidates = [i for i in interactions if triggered.get(i.touchpoint_id)]
    if not candidates:
        return {}
    # Reachable customers without an open ticket, in one query.
    invitable = set(
        Customer.objects.reachable()
        .filter(pk__any_of=list({i.customer_id for i in candidates}))
        .exclude(
            Exists(
                Ticket.objects.filter(customer_id=OuterRef("pk"), status__in=OPEN_TICKET_STATUSES)
            )
        )
        .order_by()
        .values_list("pk", flat=True)
    )
    candidates = [i for i in candidates if i.customer_id in invitable]
    if not candidates:
        return {}
    widest = timedelta(days=max(frequency_days(s) for s in surveys))
    times = [i.occurred_at + s.delay for i in candidates for s in triggered[i.touchpoint_id]]
    contacted: dict[int, list[datetime]] = {}
    earlier_invitations = Invitation.objects.filter(
        customer_id__any_of=list({i.customer_id for i in candidates}),
        state__in=CONTACTING_STATES,
        scheduled_for__gt=min(times) - widest,
        scheduled_for__lt=max(times) + widest,
    ).order_by()
    for customer_id, at in earlier_invitations.values_list("customer_id", "scheduled_for"):
        contacted.setdefault(customer_id, []).append(at)

    # Per survey, once: (whole sample?, delay, frequency window, expiry).
    rules = {
        s.pk: (s.sample_percent >= 100, s.delay, timedelta(days=frequency_days(s)),
               timedelta(days=s.expires_after_days))
        for s in surveys
    }  # fmt: skip
    made: list[tuple[int, int, int, datetime, datetime]] = []
    for interaction_id, customer_id, touchpoint_id, occurred_at in candidates:
        for survey in triggered[touchpoint_id]:
            survey_id = survey.pk
            everyone, delay, window, expiry = rules[survey_id]
            if not everyone and not in_sample(survey, interaction_id):
                continue
            scheduled_for = occurred_at + delay
            earlier = contacted.get(customer_id)
            if earlier is None:
                contacted[customer_id] = [scheduled_for]
            elif window and any(abs(at - scheduled_for) < window for at in earlier):
                continue
            else:
                earlier.append(scheduled_for)
            made.append(
                (survey_id, interaction_id, customer_id, scheduled_for, scheduled_for + expiry)
            )
            break
    _insert_invitations(made)
    return {interaction_id: 1 for _, interaction_id, *_ in made}


_GIVEN = ["survey_id", "interaction_id", "customer_id", "scheduled_for", "expires_at"]


def _insert_invitations(rows: list[tuple[int, int, int, datetime, datetime]]) -> None:
    """New invitations from (survey, interaction, customer, scheduled_for, expires_at), in one
    bulk_create (every other field from the model's defaults, a token drawn per row)."""
    if rows:
        Invitation.objects.bulk_create(
            [Invitation(**dict(zip(_GIVEN, row, strict=True))) for row in rows]
        )
