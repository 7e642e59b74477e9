"""The triage queue: /admin/queue/, the address staff know it by, redirects to the ticket
changelist (feedback.tickets.admin.tickets.TicketAdmin) keeping the filters; ``queue_rows``
gives that changelist's rows as values for its own row template
(templates/admin/feedback/ticket/queue.html), so that each cell is a few template
variables rather than a list_display call, a lookup and a formatted <td> per cell."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _
from django.views.generic import RedirectView

from feedback.tickets.admin.badges import (
    Badge,
    customer_line,
    priority_state,
    score_state,
    sla_state,
    status_state,
)
from feedback.tickets.models import Ticket

# Not permanent: browsers would cache it, and the address may become a page again.
queue = RedirectView.as_view(
    pattern_name="admin:feedback_ticket_changelist", query_string=True, permanent=False
)


# What the rows show (queue_rows, the row template, Ticket.__str__ for the checkbox label),
# and nothing more: the ticket page's relations (survey, root cause) are other joins, and the
# customer's and the answer's JSON columns are costly to load for 50 rows.
QUEUE_RELATED = ["customer", "response", "assignee", "touchpoint"]
QUEUE_FIELDS = [
    "id",
    "subject",
    "source",
    "status",
    "priority",
    "due_at",
    "first_contact_at",
    "created_at",
    "customer__name",
    "customer__email",
    "response__kind",
    "response__score",
    "response__category",
    "assignee__username",
    "touchpoint__name",
]


def _badge(row: dict[str, str], name: str, badge: Badge) -> None:
    row[f"{name}_css"], row[f"{name}_text"], row[f"{name}_title"] = (
        badge.css,
        badge.text,
        badge.title,
    )


# Stands for the object id in the one reversed change URL; no id quotes to it.
_ID_MARK = "0"


def change_url_parts(cl: ChangeList) -> tuple[str, str]:
    """The admin change URL of the changelist's model, split around the object id."""
    opts = cl.opts
    url = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change",
        args=[_ID_MARK],
        current_app=cl.model_admin.admin_site.name,
    )
    head, _mark, tail = url.rpartition(f"/{_ID_MARK}/")
    return f"{head}/", f"/{tail}"


def queue_rows(cl: ChangeList, tickets: Iterable[Ticket], now: datetime) -> list[dict[str, str]]:
    """One row per ticket of the page, as the strings its cells show (flat dicts of str: the
    template engine finds a dict key at once, and prints a str as it is): the link to the
    ticket's page (keeping the queue's filters for the way back, as the admin's own rows do),
    the checkbox's label, the badges, and the related names or the admin's empty value.

    What is the same on every row is worked out once per page: the change URL (one
    ``reverse()``, then each ticket's quoted id in place of the marker, as the admin's
    ``url_for_result`` quotes it), the checkbox label's translation, the date format."""
    context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
    empty = cl.model_admin.get_empty_value_display()
    head, tail = change_url_parts(cl)
    # The admin's own string (and translation) for its row checkboxes.
    select_label = _("Select this object for an action - %(obj)s")
    # As the admin shows a DateTimeField (localize): the locale's format, the current time zone.
    datetime_format = get_format("SHORT_DATETIME_FORMAT")
    rows = []
    for ticket in tickets:
        url = f"{head}{quote(ticket.pk)}{tail}"
        row = {
            "pk": str(ticket.pk),
            "subject": ticket.subject,
            "url": add_preserved_filters(context, url) if cl.preserved_filters else url,
            "select_label": select_label % {"obj": ticket},
            "who": customer_line(ticket),
            "assignee": ticket.assignee.get_username() if ticket.assignee else empty,
            "touchpoint": ticket.touchpoint.name if ticket.touchpoint else empty,
            "created_at": date_format(template_localtime(ticket.created_at), datetime_format),
        }
        score = score_state(ticket)
        if score is not None:
            _badge(row, "score", score)
        _badge(row, "priority", priority_state(ticket.priority))
        _badge(row, "status", status_state(ticket))
        _badge(row, "sla", sla_state(ticket, now))
        rows.append(row)
    return rows
