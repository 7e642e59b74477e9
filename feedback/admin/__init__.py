"""Back-office of the feedback app, one module per area; importing them registers the admins.

records: surveys, invitations, answers, root causes, message and event lists, the outbox and
inbound email. tickets: the triage queue and the ticket page (queue: its table and filter bar
drawn in one pass; badges: the labels both pages show).
"""

from feedback.admin import records, tickets

__all__ = ["records", "tickets"]
