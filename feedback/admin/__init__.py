"""Back-office of the feedback app: Django's admin autodiscovery imports this module, and
importing each part's admin registers its pages.

surveys: surveys, invitations, answers and the outbox. tickets: the triage queue (the ticket
changelist, /admin/queue/ redirects to it), the ticket page, root causes and the conversation
and event lists. inbound: received email. insights: topics, enriched texts and corrections,
the ticket workspace's panel, and the insight.alert webhook event's documentation (read when
the API schema is built).
"""

from feedback.inbound import admin as inbound_admin
from feedback.insights import admin as insights_admin
from feedback.insights import alerts_notify as insights_alerts_notify
from feedback.insights import workspace as insights_workspace
from feedback.surveys import admin as surveys_admin
from feedback.tickets.admin import profile, records, saved_replies, tickets

__all__ = [
    "inbound_admin",
    "insights_admin",
    "insights_alerts_notify",
    "insights_workspace",
    "profile",
    "records",
    "saved_replies",
    "surveys_admin",
    "tickets",
]
