"""The small coloured labels of the triage queue and the ticket page: score, priority, status,
SLA countdown, and the ticket cell (subject over the customer). Each rule gives a ``Badge``
(CSS class, text, tooltip): the queue's row template draws it, and the ticket page gets it
built with ``format_html`` (every value escaped). Texts are translated with gettext; the
colours are in static/cxcrm/admin.css.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from feedback.surveys.scoring import sentiment_of
from feedback.tickets.models import OPEN_TICKET_STATUSES, Ticket, TicketPriority, TicketSource
from feedback.tickets.services import priority_name


@dataclass(frozen=True, slots=True)
class Badge:
    css: str
    text: str
    title: str = ""

    def html(self) -> SafeString:
        if self.title:
            return format_html(
                '<span class="{}" title="{}">{}</span>', self.css, self.title, self.text
            )
        return format_html('<span class="{}">{}</span>', self.css, self.text)


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        # Translators: short durations in the SLA badge ("due in 3 h", "overdue by 2 d");
        # a language whose abbreviations agree with the number may use full words.
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        # Translators: hours, short, in the SLA badge ("due in 3 h").
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = hours // 24
    # Translators: days, short, in the SLA badge ("overdue by 2 d").
    return ngettext("%(n)d d", "%(n)d d", days) % {"n": days}


def _minute(value: datetime) -> str:
    # The locale's short date and time, in the user's time zone.
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def sla_state(ticket: Ticket, now: datetime | None = None) -> Badge:
    """ "due in 3 h" / "overdue by 2 h" while nobody has contacted the customer; the SLA is
    about the first contact, so once contacted (or closed) the countdown stops."""
    now = now or timezone.now()
    if ticket.status not in OPEN_TICKET_STATUSES:
        return Badge("cx-sla cx-sla--done", ticket.get_status_display())
    if ticket.first_contact_at is not None:
        return Badge("cx-sla cx-sla--met", _("contacted"), _minute(ticket.first_contact_at))
    due_at = ticket.due_at
    if due_at is None:
        return Badge("cx-sla cx-sla--none", _("no SLA"))
    title = _("due %(when)s") % {"when": _minute(due_at)}
    if due_at < now:
        late = _("overdue by %(duration)s") % {"duration": _duration(now - due_at)}
        return Badge("cx-sla cx-sla--overdue", late, title)
    left = due_at - now
    css = "cx-sla cx-sla--soon" if left < timedelta(hours=4) else "cx-sla cx-sla--ok"
    return Badge(css, _("due in %(duration)s") % {"duration": _duration(left)}, title)


def priority_state(priority: int) -> Badge:
    return Badge(
        f"cx-badge cx-prio--{priority_name(priority)}", str(TicketPriority(priority).label)
    )


def status_state(ticket: Ticket) -> Badge:
    return Badge(f"cx-badge cx-status--{ticket.status}", str(ticket.get_status_display()))


def score_state(ticket: Ticket) -> Badge | None:
    """None for a ticket that should have an answer and has none (shown as a dash)."""
    response = ticket.response
    if response is None:
        # Tickets from email, the API or staff have no score; say where they came from.
        if ticket.source == TicketSource.RESPONSE:
            return None
        return Badge("cx-badge cx-score--none", str(ticket.get_source_display()))
    sentiment = sentiment_of(response.kind, response.score)
    return Badge(
        f"cx-badge cx-score cx-score--{sentiment}",
        f"{response.kind.upper()} {response.score}",
        str(response.get_category_display()),
    )


def sla_badge(ticket: Ticket, now: datetime | None = None) -> SafeString:
    return sla_state(ticket, now).html()


def priority_badge(priority: int) -> SafeString:
    return priority_state(priority).html()


def status_badge(ticket: Ticket) -> SafeString:
    return status_state(ticket).html()


def score_badge(ticket: Ticket) -> SafeString | str:
    badge = score_state(ticket)
    return "—" if badge is None else badge.html()


def customer_label(ticket: Ticket) -> str:
    customer = ticket.customer
    return customer.name or customer.email or _("customer #%(pk)s") % {"pk": customer.pk}


def customer_line(ticket: Ticket) -> str:
    """The line under the subject in the queue: the customer's name and email."""
    customer = ticket.customer
    label = customer_label(ticket)
    return f"{label} · {customer.email}" if customer.name and customer.email else label


def ticket_label(ticket: Ticket) -> SafeString:
    """The queue's first column: "#id subject" over the customer's name and email."""
    return format_html(
        '<span class="cx-subject">#{} {}</span><span class="cx-who">{}</span>',
        ticket.pk,
        ticket.subject,
        customer_line(ticket),
    )
