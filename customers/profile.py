"""The customer page's panels from the parts above customers (answers, tickets, interactions).

customers/ may not import them (imports run one way: feedback → touchpoints → customers), so
they register here what they show: a title, a template and a function that reads what it
needs (a selector: a bounded number of queries whatever the customer's history)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from customers.models import Customer


@dataclass(frozen=True)
class ProfilePanel:
    key: str
    title: str | Promise  # a gettext_lazy string: shown in the staff member's language
    template: str
    load: Callable[[Customer], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, ProfilePanel] = {}


def profile_panel_register(panel: ProfilePanel) -> ProfilePanel:
    """Add (or replace, by key) a panel of the customer page; called when the admin loads."""
    _PANELS[panel.key] = panel
    return panel


def profile_panels(customer: Customer) -> list[dict[str, Any]]:
    """The registered panels in order, each with what its template shows for this customer."""
    return [
        {"key": p.key, "title": p.title, "template": p.template, "data": p.load(customer)}
        for p in sorted(_PANELS.values(), key=lambda p: (p.order, p.key))
    ]
