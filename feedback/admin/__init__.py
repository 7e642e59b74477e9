"""Back-office of the feedback app, one module per area; importing them registers the admins.

records: surveys, invitations, answers, root causes, message and event lists, the outbox and
inbound email. tickets: the ticket changelist and the ticket page (queue: the changelist's table
and filter bar drawn in one pass; badges: the labels the pages show). triage: the triage queue
staff work from, /admin/queue/ (a lean page of its own, routed in cxcrm/urls.py).
"""

from feedback.admin import records, tickets

__all__ = ["records", "tickets"]
