"""The customer page's history panels (customers.profile): answers, tickets, interactions.
Each is one query, newest first, capped; browsing without an order is folded away."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.profile import ProfilePanel, profile_panel_register
from feedback.surveys.models import Response
from feedback.tickets.models import Ticket
from touchpoints.models import Interaction

# Rows per panel: the newest; the full lists are a link away (the admin's filtered lists).
PROFILE_ROWS = 20


def _answers(customer: Customer) -> dict[str, Any]:
    rows = list(
        Response.objects.filter(customer=customer)
        .select_related("touchpoint")
        .only(
            "id",
            "kind",
            "score",
            "category",
            "comment",
            "submitted_at",
            "touchpoint__name",
        )
        .order_by("-submitted_at", "-id")[: PROFILE_ROWS + 1]
    )
    return {"rows": rows[:PROFILE_ROWS], "more": len(rows) > PROFILE_ROWS}


def _tickets(customer: Customer) -> dict[str, Any]:
    rows = list(
        Ticket.objects.filter(customer=customer)
        .only("id", "subject", "status", "priority", "due_at", "created_at", "customer_id")
        .order_by("-created_at", "-id")[: PROFILE_ROWS + 1]
    )
    return {"rows": rows[:PROFILE_ROWS], "more": len(rows) > PROFILE_ROWS}


def _interactions(customer: Customer) -> dict[str, Any]:
    rows = list(
        Interaction.objects.filter(customer=customer)
        .select_related("touchpoint")
        .only(
            "id",
            "occurred_at",
            "order_ref",
            "amount",
            "currency",
            "source",
            "touchpoint__name",
        )
        .order_by("-occurred_at", "-id")[: PROFILE_ROWS * 3 + 1]
    )
    more = len(rows) > PROFILE_ROWS * 3
    rows = rows[: PROFILE_ROWS * 3]
    # Visits without an order or amount (page views, mostly) are noise beside purchases.
    key = [r for r in rows if r.order_ref or r.amount]
    browsing = [r for r in rows if not (r.order_ref or r.amount)]
    return {"rows": key[:PROFILE_ROWS], "browsing": browsing[:PROFILE_ROWS], "more": more}


profile_panel_register(
    ProfilePanel(
        "answers", _("Feedback"), "admin/customers/customer/panel_answers.html", _answers, 10
    )
)
profile_panel_register(
    ProfilePanel(
        "tickets", _("Tickets"), "admin/customers/customer/panel_tickets.html", _tickets, 20
    )
)
profile_panel_register(
    ProfilePanel(
        "interactions",
        _("Interactions"),
        "admin/customers/customer/panel_interactions.html",
        _interactions,
        30,
    )
)
