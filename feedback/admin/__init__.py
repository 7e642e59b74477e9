"""Back-office of the feedback app: Django's admin autodiscovery imports this module, and
importing each part's admin registers its pages.

surveys: surveys, invitations, answers and the outbox. tickets: the triage queue (the ticket
changelist, /admin/queue/ redirects to it), the ticket page, root causes and the conversation
and event lists. inbound: received email.
"""

from feedback.inbound import admin as inbound_admin
from feedback.surveys import admin as surveys_admin
from feedback.tickets.admin import profile, records, saved_replies, tickets

__all__ = ["inbound_admin", "profile", "records", "saved_replies", "surveys_admin", "tickets"]
