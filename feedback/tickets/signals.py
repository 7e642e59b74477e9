"""Signals the tickets part sends; the parts above it (reporting) receive them."""

from __future__ import annotations

from django.dispatch import Signal

# A ticket changed (every change writes a TicketEvent, feedback.tickets.services), in the
# transaction of the change: kwarg ``created_at``, the day its loop figures are filed under.
ticket_changed = Signal()
