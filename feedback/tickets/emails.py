"""What our emails to a customer about their ticket say around the agent's words: the
language, a subject that threads under the survey email they answered, the signature; and
the rendering of every ticket email, the staff alerts in each recipient's language."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from cxcrm.staff_prefs import recipients_by_locale, staff_locale
from cxcrm.text import header_text
from feedback.surveys.emails import (
    RTL_LANGUAGES,
    SUPPORTED_LANGUAGES,
    invitation_subject,
    pick_language,
    public_url,
)
from feedback.surveys.models import EmailKind
from feedback.surveys.services.outbox import outbound_email_queue
from feedback.tickets.models import Ticket

_REPLY_PREFIX = re.compile(r"^(?:\s*re\s*:\s*)+", re.IGNORECASE)


def customer_thread(ticket: Ticket) -> tuple[str, str]:
    """(language, subject) of our emails to the customer about a ticket: their language, and
    "Re: " + the subject of the survey email they answered (else the ticket's), as mail
    clients thread by subject as well as by References."""
    response = ticket.response if ticket.response_id else None
    if response is not None and response.invitation_id:
        language, subject = invitation_subject(response.invitation)
    else:
        language = pick_language(ticket.customer.language, SUPPORTED_LANGUAGES)
        subject = _REPLY_PREFIX.sub("", header_text(ticket.subject))
    return language, header_text(f"Re: {subject}")[:255]


def agent_name(user: Any) -> str:
    """How a reply is signed: the agent's full name, else their username."""
    if user is None:
        return ""
    return (user.get_full_name() or "").strip() or user.get_username()


def email_render(
    template: str, context: dict[str, Any], *, language: str = "en"
) -> tuple[str, str]:
    """An email in ``language``: the customer's for theirs, the recipient's for staff's."""
    language = pick_language(language, SUPPORTED_LANGUAGES)
    context = {
        "brand": settings.CXCRM_BRAND_NAME,
        "brand_colour": settings.CXCRM_BRAND_COLOUR,
        "site_url": settings.SITE_URL,
        "language": language,
        "direction": "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr",
        **context,
    }
    with translation.override(language):
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return text, html


def staff_alert_queue(
    ticket: Ticket,
    recipients: list[str],
    template: str,
    *,
    now: datetime | None = None,
    **extra: Any,
) -> None:
    """Queue a staff alert about a ticket (``emails/<template>``) to each recipient, in the
    language and time zone they chose (cxcrm.staff_prefs), else the site's."""
    url = public_url(f"/admin/feedback/ticket/{ticket.pk}/change/")
    subject = f"[{settings.CXCRM_BRAND_NAME}] #{ticket.pk} {ticket.subject}"
    # Each recipient reads it in their own language and time zone: rendered once per group.
    for locale, addresses in recipients_by_locale(sorted(set(recipients))):
        with staff_locale(locale):
            text, html = email_render(
                template, {"ticket": ticket, "url": url, **extra}, language=locale.language
            )
        for address in addresses:
            outbound_email_queue(
                to=address,
                subject=subject,
                text=text,
                html=html,
                kind=EmailKind.ALERT,
                # About the customer: their erasure finds it (it quotes their name and comment).
                customer_id=ticket.customer_id,
                ticket_id=ticket.pk,
                now=now,
            )
