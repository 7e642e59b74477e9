"""Saved replies (macros): which placeholders a body may use, checking them when a reply is
saved, and filling them in for one ticket. Plain substitution, never a template engine: a
body is staff-written text and must not be able to reach anything but these values."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from feedback.tickets.emails import agent_name
from feedback.tickets.models import SavedReply, Ticket

PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
PLACEHOLDERS = {
    # The names in braces are what staff type: the same in every language.
    "customer_name": _("the customer's name (left out, with its comma, when unknown)"),
    "order": _("the order reference of the answer's interaction"),
    "agent": _("your name"),
    "ticket": _("the ticket number, e.g. #42"),
    "subject": _("the ticket's subject"),
}


def saved_reply_languages() -> list[tuple[str, str]]:
    return [(SavedReply.ANY_LANGUAGE, _("Any language")), *settings.LANGUAGES]


def saved_reply_body_validate(body: str) -> None:
    """Refuse a body with a placeholder we do not fill, naming it (a typo would otherwise
    reach the customer as "{custmer_name}")."""
    unknown = sorted({name for name in PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValidationError(
            ngettext(
                "Unknown placeholder: %(names)s. Use %(known)s.",
                "Unknown placeholders: %(names)s. Use %(known)s.",
                len(unknown),
            ),
            code="unknown_placeholder",
            params={"names": names, "known": known},
        )


def placeholder_values(ticket: Ticket, agent: Any) -> dict[str, str]:
    """The values for one ticket (loaded by tickets_for_staff, so no query here)."""
    customer = ticket.customer
    interaction = None
    if ticket.response is not None and ticket.response.invitation is not None:
        interaction = ticket.response.invitation.interaction
    return {
        "customer_name": customer.name,
        "order": interaction.order_ref if interaction is not None else "",
        "agent": agent_name(agent),
        "ticket": f"#{ticket.pk}",
        "subject": ticket.subject,
    }


# The separators around a placeholder that go with it when its value is empty: "Hello
# {customer_name}," → "Hello,", "Здравствуйте, {customer_name}!" → "Здравствуйте!",
# "{customer_name}，您好！" → "您好！" (no English filler word in another language).
_SEPARATORS = "[ \t]*[,，،]?[ \t]*"


def saved_reply_render(body: str, values: dict[str, str]) -> str:
    """Each known placeholder replaced by its value; anything else left as written. An
    empty value takes its separator with it, so no ", ," or stray space is left."""
    for name, value in values.items():
        if not value:
            token = re.escape("{" + name + "}")
            body = re.sub(rf"(?m)^{token}{_SEPARATORS}", "", body)
            body = re.sub(rf"{_SEPARATORS}{token}", "", body)
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def saved_replies_for(user: Any, language: str) -> QuerySet[SavedReply]:
    """The replies a person may use: shared ones and their own. The customer's language
    first, then "any", then the other languages (a reply in the wrong language is still a
    starting point)."""
    rank = Case(
        When(language=language, then=Value(0)),
        When(language=SavedReply.ANY_LANGUAGE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        SavedReply.objects.filter(Q(owner__isnull=True) | Q(owner_id=user.pk))
        .annotate(rank=rank)
        .order_by("rank", "language", "name", "id")
    )
