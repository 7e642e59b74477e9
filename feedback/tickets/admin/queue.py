"""/admin/queue/, the address staff know the triage queue by: it is the ticket changelist
(feedback.tickets.admin.tickets.TicketAdmin), so this only redirects there, keeping the filters."""

from __future__ import annotations

from django.views.generic import RedirectView

# Not permanent: browsers would cache it, and the address may become a page again.
queue = RedirectView.as_view(
    pattern_name="admin:feedback_ticket_changelist", query_string=True, permanent=False
)
