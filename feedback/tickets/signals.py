"""Signals the tickets part sends; the parts above it (reporting) receive them."""

from __future__ import annotations

from django.dispatch import Signal

# A ticket changed (every change writes a TicketEvent, feedback.tickets.services), in the
# transaction of the change: kwarg ``created_at``, the day its loop figures are filed under.
ticket_changed = Signal()

# A customer's message was added to a ticket (a reply by email, the first message of a ticket
# opened by an integrator or from an email), in the transaction that adds it: kwarg
# ``message``. The copy of an answer's comment on the ticket it opened is not sent (the answer
# is). Comment insights enrich the text.
customer_message_added = Signal()
