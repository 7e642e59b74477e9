"""The small coloured labels of the triage queue and the ticket page: score, priority, status,
SLA countdown, and the ticket cell (subject over the customer).

The queue draws five of them on each of its 50 rows, so they are built with one f-string
each: ``format_html`` costs ~15 µs a call (a lazy-string check and a ``conditional_escape``
for every argument, constant CSS classes included), and with ~450 calls a page that was a
tenth of the page. The output is the same; ``_esc`` is ``conditional_escape`` without its
lazy-string wrapper (text already marked safe passes through, anything else is escaped).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeData, SafeString, mark_safe

from feedback.models import (
    OPEN_TICKET_STATUSES,
    Ticket,
    TicketPriority,
    TicketSource,
    TicketStatus,
)
from feedback.scoring import Category, sentiment_of
from feedback.services.loop import priority_name

# get_FOO_display() builds a hashable copy of the field's choices on every call; the queue
# asks three of them per row.
_STATUS = dict(TicketStatus.choices)
_SOURCE = dict(TicketSource.choices)
_CATEGORY = dict(Category.choices)
_PRIORITY = {p.value: (priority_name(p.value), p.label) for p in TicketPriority}


def _esc(text: object) -> str:
    return str(text) if isinstance(text, SafeData) else escape(str(text))


def _span(css: str, text: object, title: object = "") -> SafeString:
    if title:
        return mark_safe(f'<span class="{_esc(css)}" title="{_esc(title)}">{_esc(text)}</span>')
    return mark_safe(f'<span class="{_esc(css)}">{_esc(text)}</span>')


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


def sla_badge(ticket: Ticket, now: datetime | None = None) -> SafeString:
    """ "due in 3 h" / "overdue by 2 h" while nobody has contacted the customer; the SLA is
    about the first contact, so once contacted (or closed) the countdown stops."""
    return sla_badge_of(ticket.status, ticket.first_contact_at, ticket.due_at, now)


def sla_badge_of(
    status: str,
    first_contact_at: datetime | None,
    due_at: datetime | None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> SafeString:
    """sla_badge from the ticket's values (the triage page reads rows, not Ticket objects);
    ``tz`` is the current time zone, looked up once per page by the caller."""
    now = now or timezone.now()
    if status not in OPEN_TICKET_STATUSES:
        return _span("cx-sla cx-sla--done", _STATUS.get(status, status))
    if first_contact_at is not None:
        return _span("cx-sla cx-sla--met", "contacted", f"{first_contact_at:%Y-%m-%d %H:%M}")
    if due_at is None:
        return _span("cx-sla cx-sla--none", "no SLA")
    title = f"due {timezone.localtime(due_at, tz):%Y-%m-%d %H:%M}"
    if due_at < now:
        return _span("cx-sla cx-sla--overdue", f"overdue by {_duration(now - due_at)}", title)
    left = due_at - now
    css = "cx-sla cx-sla--soon" if left < timedelta(hours=4) else "cx-sla cx-sla--ok"
    return _span(css, f"due in {_duration(left)}", title)


# The badges that depend on a few values only (a priority, a status, a score of a kind) are
# remembered: the queue asks for 150 of them a page, out of a few dozen different ones.
@lru_cache(maxsize=256)
def priority_badge(priority: int) -> SafeString:
    name, label = _PRIORITY[priority]
    return _span(f"cx-badge cx-prio--{name}", label)


def status_badge(ticket: Ticket) -> SafeString:
    return status_badge_of(ticket.status)


@lru_cache(maxsize=256)
def status_badge_of(status: str) -> SafeString:
    return _span(f"cx-badge cx-status--{status}", _STATUS.get(status, status))


def score_badge(ticket: Ticket) -> SafeString | str:
    response = ticket.response
    if response is None:
        return score_badge_of(ticket.source, None, None, None)
    return score_badge_of(ticket.source, response.kind, response.score, response.category)


@lru_cache(maxsize=256)
def score_badge_of(
    source: str, kind: str | None, score: int | None, category: str | None
) -> SafeString | str:
    """score_badge from the ticket's source and its answer's kind, score and category (kind
    None: no answer)."""
    if kind is None:
        # Tickets from email, the API or staff have no score; say where they came from.
        if source == TicketSource.RESPONSE:
            return "—"
        return _span("cx-badge cx-score--none", _SOURCE.get(source, source))
    sentiment = sentiment_of(kind, score)
    return _span(
        f"cx-badge cx-score cx-score--{sentiment}",
        f"{kind.upper()} {score}",
        _CATEGORY.get(category, category),
    )


def customer_label(ticket: Ticket) -> str:
    customer = ticket.customer
    return customer.name or customer.email or f"customer #{customer.pk}"


def ticket_label(ticket: Ticket) -> SafeString:
    """The queue's first column: "#id subject" over the customer's name and email."""
    customer = ticket.customer
    return ticket_label_of(ticket.pk, ticket.subject, customer.pk, customer.name, customer.email)


def ticket_label_of(pk: int, subject: str, customer_pk: int, name: str, email: str) -> SafeString:
    """ticket_label from the values it shows."""
    label = name or email or f"customer #{customer_pk}"
    who = f"{_esc(label)} · {_esc(email)}" if name and email else _esc(label)
    return mark_safe(
        f'<span class="cx-subject">#{pk} {_esc(subject)}</span><span class="cx-who">{who}</span>'
    )
