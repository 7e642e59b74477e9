"""What our emails to a customer about their ticket say around the agent's words: the
language, a subject that threads under the survey email they answered, the signature."""

from __future__ import annotations

import re
from typing import Any

from cxcrm.text import header_text
from feedback.surveys.emails import SUPPORTED_LANGUAGES, invitation_subject, pick_language
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
