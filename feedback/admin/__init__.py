"""Back-office of the feedback app, one module per area; importing them registers the admins.

records: surveys, invitations, answers, root causes, message and event lists, the outbox and
inbound email. tickets: the triage queue (the ticket changelist) and the ticket page (badges:
the labels the pages show). triage: /admin/queue/, a redirect to the queue (cxcrm/urls.py).
"""

from feedback.admin import records, tickets

__all__ = ["records", "tickets"]
