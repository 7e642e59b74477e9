"""Inbound email: replies to survey emails and mails to the List-Unsubscribe address.

Every message is stored (an InboundEmail row, committed) before anything else is done with it,
so a parse failure, a bug or a crash loses nothing: the row keeps the raw bytes and says what
became of the message. Processing then runs in its own transaction and records the outcome.

Decisions:
- An unsubscribe+<token> address wins over everything, auto-reply markers included: the
  address itself is the customer's intent (mail clients' "Unsubscribe" buttons send it).
- A reply to an answered invitation adds its text to the comment (after the earlier comment,
  whose previous version stays in Response.history); a bare number there is text too, never a
  score change: "9" under a survey answered 3 is ambiguous, and the survey page is where an
  answer is changed. The response keeps the channel its score came in on.
- A reply whose answer has a ticket becomes a message on the ticket (and reopens it).
- A text reply to an unanswered invitation records nothing (a response needs a score); it is
  kept as "no_score" for staff, unless the invitation is a recovery follow-up, whose ticket
  gets the message.
- Without a token, In-Reply-To/References are matched against the Message-IDs we sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customers_by_email
from customers.services import CustomerError, customer_create_from_email, customer_unsubscribe
from feedback.inbound import parsing as inbound
from feedback.inbound.limits import OverLimit
from feedback.inbound.models import InboundEmail, InboundSource, InboundStatus
from feedback.inbound.signals import inbound_email_read
from feedback.surveys.models import Invitation, OutboundEmail, Response, ResponseChannel
from feedback.surveys.scoring import score_range
from feedback.surveys.selectors import invitation_by_token
from feedback.surveys.services.responses import (
    MAX_COMMENT_CHARS,
    SurveyClosed,
    is_open,
    response_record,
)
from feedback.tickets.models import OPEN_TICKET_STATUSES, Ticket, TicketMessage, TicketSource
from feedback.tickets.services import ticket_create, ticket_message_receive

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SWEEP_BATCH = 500
MAX_THREAD_IDS = 20  # bounds the IN (...) of the thread lookup; the newest ids come first
NOT_PROCESSED = (
    InboundStatus.RECEIVED,
    InboundStatus.ERROR,
    InboundStatus.TOO_LARGE,
    InboundStatus.DUPLICATE,
)


class EmptyMessage(ValueError):
    """Nothing was received: there is nothing to keep."""


def max_bytes() -> int:
    return int(getattr(settings, "CXCRM_INBOUND_MAX_BYTES", DEFAULT_MAX_BYTES))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def inbound_email_store(
    *,
    raw: bytes,
    source: str,
    envelope_recipients: Sequence[str] = (),
    size: int | None = None,
    now: datetime | None = None,
) -> InboundEmail:
    """Store one RFC 822 message as "received" (or "too_large"), without reading it: what a
    webhook does before it answers. ``size`` is the full size when the caller read only the
    first bytes of a larger message (the command reads at most the limit + 1).

    Raises EmptyMessage for empty input; otherwise always returns the stored row.
    """
    if source not in InboundSource.values:
        raise ValueError(f"Unknown inbound source {source!r}.")
    if not raw or not raw.strip():
        raise EmptyMessage("The message is empty.")
    now = now or timezone.now()
    limit = max_bytes()
    size = max(size or 0, len(raw))
    envelope = inbound.clean_text(
        ", ".join(r.strip() for r in envelope_recipients if r and r.strip())
    )
    if size > limit:
        row = InboundEmail.objects.create(
            source=source,
            raw=raw[:limit],
            size=size,
            envelope_to=envelope,
            received_at=now,
            status=InboundStatus.TOO_LARGE,
            note=(
                f"The message is {_megabytes(size)}; the limit is {_megabytes(limit)} "
                "(CXCRM_INBOUND_MAX_BYTES). Its beginning is kept here; nothing was recorded."
            ),
            processed_at=now,
        )
        try:
            # Headers help staff find it; a truncated body often parses well enough.
            _describe(row, inbound.parse(raw[:limit]))
        except Exception:  # noqa: BLE001 - the row and its note are what matter here
            log.warning("oversized inbound email %s: headers unreadable", row.pk)
        return row
    return InboundEmail.objects.create(
        source=source, raw=raw, size=size, envelope_to=envelope, received_at=now
    )


def inbound_email_receive(
    *,
    raw: bytes,
    source: str,
    envelope_recipients: Sequence[str] = (),
    size: int | None = None,
    now: datetime | None = None,
) -> InboundEmail:
    """Store one message, then process it in-line (the receive_email command: the MTA's pipe
    waits for the outcome). Same contract as inbound_email_store."""
    row = inbound_email_store(
        raw=raw, source=source, envelope_recipients=envelope_recipients, size=size, now=now
    )
    if row.status != InboundStatus.RECEIVED:
        return row
    return inbound_email_process(inbound_email_id=row.pk, now=now)


def _describe(row: InboundEmail, parsed: inbound.ParsedEmail) -> None:
    row.from_email = parsed.from_email[:254]
    row.to = parsed.to
    row.subject = parsed.subject[:255]
    row.message_id = parsed.message_id[:255]
    row.in_reply_to = parsed.in_reply_to[:255]
    row.references = " ".join(parsed.references)
    row.text = parsed.text
    row.save(
        update_fields=[
            "from_email",
            "to",
            "subject",
            "message_id",
            "in_reply_to",
            "references",
            "text",
        ]
    )


def _claim(inbound_email_id: int, statuses: Sequence[str], now: datetime) -> bool:
    """Count the attempt in its own committed UPDATE, before any work: a worker killed while
    processing leaves the count behind for the sweep to see."""
    return bool(
        InboundEmail.objects.filter(pk=inbound_email_id, status__in=statuses).update(
            attempts=F("attempts") + 1, last_attempt_at=now
        )
    )


def inbound_email_process(
    *, inbound_email_id: int, now: datetime | None = None, again: bool = False
) -> InboundEmail:
    """Parse, match and record one stored "received" message; with ``again``, also one that
    failed ("error"). Idempotent: a row already processed (by a duplicate task) is returned
    as it is."""
    now = now or timezone.now()
    statuses = [InboundStatus.RECEIVED] + ([InboundStatus.ERROR] if again else [])
    if not _claim(inbound_email_id, statuses, now):
        return InboundEmail.objects.get(pk=inbound_email_id)
    with transaction.atomic():
        # Two tasks for one row (the sweep's and a late original) take turns here; the second
        # sees the first one's status and stops.
        row = InboundEmail.objects.select_for_update().get(pk=inbound_email_id)
        if row.status not in statuses:
            return row
        return _process(row, now)


def _process(row: InboundEmail, now: datetime) -> InboundEmail:
    try:
        parsed = inbound.parse(
            bytes(row.raw), envelope_recipients=inbound.addresses([row.envelope_to])
        )
    except OverLimit as exc:
        return _finish(row, InboundStatus.OVER_LIMIT, f"{exc} Kept; nothing was read.", now)
    except Exception as exc:
        log.exception("inbound email %s could not be parsed", row.pk)
        return _finish(
            row,
            InboundStatus.ERROR,
            f"The message could not be read: {type(exc).__name__}: {exc}",
            now,
        )
    _describe(row, parsed)
    try:
        with transaction.atomic():
            status, note = _dispatch(row, parsed, now)
            row.status, row.note, row.processed_at = status, inbound.scrub(note), now
            row.save(
                update_fields=["status", "note", "processed_at", "invitation", "response", "ticket"]
            )
            inbound_email_read.send(sender=InboundEmail, inbound_email=row)
    except Exception as exc:
        # The savepoint rolled back whatever was half-recorded; the message itself stays.
        log.exception("inbound email %s could not be processed", row.pk)
        row.invitation = row.response = row.ticket = None
        return _finish(
            row, InboundStatus.ERROR, f"Processing failed: {type(exc).__name__}: {exc}", now
        )
    return row


def _finish(row: InboundEmail, status: str, note: str, now: datetime) -> InboundEmail:
    note = inbound.scrub(note)[:2000]
    InboundEmail.objects.filter(pk=row.pk).update(status=status, note=note, processed_at=now)
    row.status, row.note, row.processed_at = status, note, now
    return row


def inbound_emails_stuck(*, now: datetime | None = None) -> list[int]:
    """For the beat sweep: give up (status "error", with why) on rows still "received" after
    CXCRM_INBOUND_MAX_ATTEMPTS attempts, and return the ids of the other rows "received" for
    longer than CXCRM_INBOUND_SWEEP_AFTER_SECONDS (their enqueue was lost or their worker
    died), oldest first, at most SWEEP_BATCH."""
    now = now or timezone.now()
    after = timedelta(seconds=int(settings.CXCRM_INBOUND_SWEEP_AFTER_SECONDS))
    attempts = int(settings.CXCRM_INBOUND_MAX_ATTEMPTS)
    stale = InboundEmail.objects.filter(status=InboundStatus.RECEIVED, received_at__lt=now - after)
    # A row being worked on right now (a recent attempt) is left to its worker.
    stale = stale.filter(Q(last_attempt_at=None) | Q(last_attempt_at__lt=now - after))
    stale.filter(attempts__gte=attempts).update(
        status=InboundStatus.ERROR,
        processed_at=now,
        note=(
            f"Processing was started {attempts} times and never finished (the worker was "
            'killed, ran out of time or lost the database). Use "Process again" once the '
            "cause is fixed."
        ),
    )
    return list(
        stale.filter(attempts__lt=attempts)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


# --- Matching -----------------------------------------------------------------------------------


def _invitation_for_token(token: str) -> Invitation | None:
    found = invitation_by_token(token)
    if found is None:
        # Some MTAs lower-case the local part; 256 random bits make a case-folded clash moot.
        found = (
            Invitation.objects.select_related("customer", "survey")
            .filter(token__iexact=token)
            .first()
        )
    return found


def _thread_target(ids: list[str]) -> tuple[Invitation | None, Ticket | None]:
    """The invitation or ticket a message answers, from the Message-IDs it quotes (the most
    direct first): our ticket messages, our outbox, our survey emails."""
    ids = ids[:MAX_THREAD_IDS]
    if not ids:
        return None, None
    by_id: dict[str, tuple[Invitation | None, Ticket | None]] = {}
    for email in (
        OutboundEmail.objects.filter(message_id__in=ids)
        .exclude(invitation=None, ticket=None)
        .select_related("invitation__customer", "invitation__survey", "ticket")
    ):
        by_id.setdefault(email.message_id, (email.invitation, email.ticket))
    for invitation in Invitation.objects.filter(message_id__in=ids).select_related(
        "customer", "survey"
    ):
        by_id.setdefault(invitation.message_id, (invitation, None))
    for message in TicketMessage.objects.filter(message_id__in=ids).select_related("ticket"):
        # A message on the ticket is the most precise match of all.
        by_id[message.message_id] = (None, message.ticket)
    for message_id in ids:
        if message_id in by_id:
            return by_id[message_id]
    return None, None


def _dispatch(row: InboundEmail, parsed: inbound.ParsedEmail, now: datetime) -> tuple[str, str]:
    if parsed.message_id:
        earlier = (
            InboundEmail.objects.filter(message_id=parsed.message_id, pk__lt=row.pk)
            .exclude(status__in=NOT_PROCESSED)
            .values_list("pk", flat=True)
            .first()
        )
        if earlier:
            # ESPs retry a webhook that timed out; the first copy was already recorded.
            return InboundStatus.DUPLICATE, f"Same Message-ID as inbound email #{earlier}."

    found = inbound.find_token(parsed.recipients, settings.INBOUND_EMAIL_DOMAIN)
    invitation: Invitation | None = None
    ticket: Ticket | None = None
    how = ""
    if found is not None:
        invitation = _invitation_for_token(found.token)
        if invitation is None:
            return InboundStatus.UNMATCHED, f"{found.address}: no invitation has this token."
        row.invitation = invitation
        if found.purpose == "unsubscribe":
            changed = customer_unsubscribe(customer=invitation.customer)
            if changed:
                return InboundStatus.UNSUBSCRIBED, f"{invitation.customer.email} unsubscribed."
            return InboundStatus.UNSUBSCRIBED, (
                f"{invitation.customer.email} was already unsubscribed."
            )
        how = "by token"
    else:
        invitation, ticket = _thread_target(parsed.thread_ids)
        row.invitation, row.ticket = invitation, ticket
        how = "by thread (In-Reply-To/References)"

    if parsed.auto_reply:
        return InboundStatus.AUTO_REPLY, f"Not recorded: {parsed.auto_reply}."
    if ticket is not None:
        return _to_ticket(row, parsed, ticket, f"Matched the ticket {how}.")
    if invitation is None:
        return InboundStatus.UNMATCHED, "No reply token in the recipients and no known thread."
    return _answer(row, parsed, invitation, how, now)


def _answer(
    row: InboundEmail,
    parsed: inbound.ParsedEmail,
    invitation: Invitation,
    how: str,
    now: datetime,
) -> tuple[str, str]:
    response = Response.objects.filter(invitation=invitation).first()
    row.response = response
    answer_ticket = _ticket_of(response)
    if answer_ticket is not None:
        return _to_ticket(row, parsed, answer_ticket, f"Matched the answer's ticket {how}.")
    followup_ticket = invitation.ticket if invitation.ticket_id else None
    if not is_open(invitation, now):
        if followup_ticket is not None:
            return _to_ticket(row, parsed, followup_ticket, "The follow-up survey is closed.")
        return InboundStatus.CLOSED, (
            f"Invitation #{invitation.pk} is {invitation.state}"
            + (" and past its expiry" if invitation.state in ("sent", "responded") else "")
            + "; nothing recorded."
        )
    text = parsed.text
    language = invitation.customer.language or ""
    if response is None:
        score = inbound.bare_score(text)
        low, high = score_range(invitation.survey.kind)
        if score is not None and low <= score <= high:
            try:
                result = response_record(
                    invitation_id=invitation.pk,
                    score=score,
                    channel=ResponseChannel.REPLY,
                    language=language,
                    now=now,
                )
            except SurveyClosed as exc:
                return InboundStatus.CLOSED, f"{exc} Nothing recorded."
            row.response = result.response
            return InboundStatus.SCORE_RECORDED, f"Score {score} recorded {how}."
        if followup_ticket is not None:
            return _to_ticket(row, parsed, followup_ticket, "A reply to a follow-up, not a score.")
        return InboundStatus.NO_SCORE, (
            f"Matched invitation #{invitation.pk} {how}, which has no answer yet, and the reply "
            "is not a score; nothing recorded. The text is kept here."
        )
    if not text:
        return InboundStatus.MATCHED_RESPONSE, "The reply has no new text; nothing changed."
    existing = response.comment.strip()
    if text in existing:
        return InboundStatus.MATCHED_RESPONSE, "The comment already holds this text."
    comment = inbound.scrub(f"{existing}\n\n{text}" if existing else text)
    note = f"Added to the comment of response #{response.pk} {how}."
    if len(comment) > MAX_COMMENT_CHARS:
        # The earlier comment stays in the response's history, the full reply here.
        comment = inbound.scrub(text)[:MAX_COMMENT_CHARS]
        note += " Too long to append: the comment was replaced (the earlier one is in history)."
    try:
        response_record(
            invitation_id=invitation.pk,
            comment=comment,
            channel=response.channel,
            language=language,
            now=now,
        )
    except SurveyClosed as exc:
        return InboundStatus.CLOSED, f"{exc} Nothing recorded."
    return InboundStatus.MATCHED_RESPONSE, note


def _ticket_of(response: Response | None) -> Ticket | None:
    if response is None:
        return None
    try:
        return response.ticket
    except Ticket.DoesNotExist:
        return None


def _to_ticket(
    row: InboundEmail, parsed: inbound.ParsedEmail, ticket: Ticket, note: str
) -> tuple[str, str]:
    body = parsed.text
    if parsed.attachments:
        names = ", ".join(parsed.attachments[:10])
        body += f"\n\n[Attachments: {names}. Kept with inbound email #{row.pk}.]"
    if not body.strip():
        body = f"[The reply has no new text. Kept as inbound email #{row.pk}.]"
    ticket_message_receive(
        ticket_id=ticket.pk,
        body=inbound.scrub(body.strip()),
        from_email=parsed.from_email if "@" in parsed.from_email else "",
        message_id=parsed.message_id,
        in_reply_to=(inbound.message_ids(parsed.in_reply_to) or [""])[0],
    )
    row.ticket = ticket
    return InboundStatus.MATCHED_TICKET, f"{note.rstrip()} Added to ticket #{ticket.pk}."


# --- Staff handling of mail that matched nothing ------------------------------------------------


class InboundHandlingError(ValueError):
    """Why staff cannot turn this message into a ticket (shown to them as it is)."""


# What staff may still turn into a ticket: messages nothing was recorded for. Not "received"
# (its processing is still to come) nor "over_limit" (nothing of it was read).
INBOUND_HANDLEABLE = (
    InboundStatus.UNMATCHED,
    InboundStatus.CLOSED,
    InboundStatus.NO_SCORE,
    InboundStatus.ERROR,
    InboundStatus.TOO_LARGE,
)


def _handleable(inbound_email_id: int) -> InboundEmail:
    row = InboundEmail.objects.select_for_update().defer("raw").get(pk=inbound_email_id)
    if row.ticket_id is not None:
        raise InboundHandlingError(f"Email #{row.pk} is already on ticket #{row.ticket_id}.")
    if row.status not in INBOUND_HANDLEABLE:
        raise InboundHandlingError(
            f"Email #{row.pk} is “{row.get_status_display()}”: only mail that nothing was "
            "recorded for can become a ticket."
        )
    return row


def _record_on_ticket(row: InboundEmail, ticket: Ticket, note: str, now: datetime) -> None:
    """The message's text as the customer's message on the ticket (its Message-ID kept, so a
    later reply quoting it threads onto the same ticket), and the row linked and handled."""
    body = (row.text or "").strip()
    if not body:
        body = f"[The email has no text. Kept as inbound email #{row.pk}.]"
    ticket_message_receive(
        ticket_id=ticket.pk,
        body=inbound.scrub(body),
        from_email=row.from_email if "@" in row.from_email else "",
        message_id=row.message_id,
        now=now,
    )
    row.ticket, row.status, row.processed_at = ticket, InboundStatus.MATCHED_TICKET, now
    row.note = inbound.scrub(f"{row.note.rstrip()} {note}".strip())[:2000]
    row.save(update_fields=["ticket", "status", "processed_at", "note"])
    inbound_email_read.send(sender=InboundEmail, inbound_email=row)


@transaction.atomic
def inbound_email_create_ticket(
    *, inbound_email_id: int, actor: Any, may_add_customer: bool = False
) -> Ticket:
    """A new ticket from an email that matched nothing: about the customer with the sender's
    address (the most recently added one if several share it); when nobody has it, a new
    customer with just that address, if ``may_add_customer`` (the actor's right to add
    customers). Subject: the email's; first message: its text."""
    row = _handleable(inbound_email_id)
    customer = customers_by_email(row.from_email).first()
    if customer is None:
        if not may_add_customer:
            raise InboundHandlingError(
                f"No customer has the address {row.from_email or '(none)'}: use “Attach to "
                "customer” to choose one."
            )
        try:
            customer = customer_create_from_email(email=row.from_email)
        except CustomerError as exc:
            raise InboundHandlingError(str(exc)) from exc
    now = timezone.now()
    ticket = ticket_create(
        customer=customer,
        subject=row.subject or f"Email from {row.from_email}",
        source=TicketSource.EMAIL,
        actor=actor,
    )
    _record_on_ticket(row, ticket, f"Ticket #{ticket.pk} created from it by staff.", now)
    return ticket


@transaction.atomic
def inbound_email_attach(*, inbound_email_id: int, customer: Customer, actor: Any) -> Ticket:
    """Record an email that matched nothing on the customer staff chose: on their open ticket
    (the one whose deadline is nearest), or on a new ticket when they have none open."""
    if customer.erased_at is not None:
        raise InboundHandlingError("That customer was erased: nothing can be recorded on them.")
    row = _handleable(inbound_email_id)
    ticket = (
        Ticket.objects.filter(customer=customer, status__in=OPEN_TICKET_STATUSES)
        .order_by(F("due_at").asc(nulls_last=True), "id")
        .first()
    )
    now = timezone.now()
    if ticket is None:
        ticket = ticket_create(
            customer=customer,
            subject=row.subject or f"Email from {row.from_email}",
            source=TicketSource.EMAIL,
            actor=actor,
        )
        note = f"Attached by staff to customer #{customer.pk}: new ticket #{ticket.pk}."
    else:
        note = f"Attached by staff to customer #{customer.pk}: added to ticket #{ticket.pk}."
    _record_on_ticket(row, ticket, note, now)
    return ticket
