"""Panels of the ticket workspace drawn by the parts above tickets (insights: the comment's
topics and sentiment, similar past tickets).

tickets/ may not import them (imports run one way: insights → tickets), so they register
here what they show: a title, a template and a function that reads what it needs for one
ticket (a selector: a bounded number of queries whatever the history). The workspace shows
each panel's template with its data in the customer's column, under the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from feedback.tickets.models import Ticket


@dataclass(frozen=True)
class WorkspacePanel:
    key: str
    title: str
    template: str
    # (ticket, request) → the template's data; None hides the panel for this ticket.
    load: Callable[[Ticket, HttpRequest], dict[str, Any] | None]
    order: int = 100


_PANELS: dict[str, WorkspacePanel] = {}


def workspace_panel_register(panel: WorkspacePanel) -> WorkspacePanel:
    """Add (or replace, by key) a panel of the ticket workspace; called when the admin loads."""
    _PANELS[panel.key] = panel
    return panel


def workspace_panels(ticket: Ticket, request: HttpRequest) -> list[dict[str, Any]]:
    """The registered panels in order, each with what its template shows for this ticket."""
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        data = panel.load(ticket, request)
        if data is not None:
            shown.append(
                {"key": panel.key, "title": panel.title, "template": panel.template, "data": data}
            )
    return shown
