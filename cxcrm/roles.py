"""The staff roles: which Django permissions each of Agent, Manager and Admin holds.

This table is the one place that decides who may do what. Admin pages, admin actions, staff
pages, the REST API (for signed-in staff) and tasks started by staff all ask Django's
``user.has_perm`` for a permission named here; API keys are held to their scopes instead
(cxcrm.api.permissions). After every ``migrate`` the three groups are set to exactly this
table (a post_migrate receiver), so a permission added here reaches every deployment; to give
someone other rights, make another group rather than editing these three.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

AGENT = "Agent"
MANAGER = "Manager"
ADMIN = "Admin"
ROLES = (AGENT, MANAGER, ADMIN)

# "app_label.codename" of each permission, by role. Admin holds every permission there is.
AGENT_PERMISSIONS = frozenset(
    {
        # Work tickets: read, change (assign, status, resolve, reopen), open one, reply, note.
        "feedback.view_ticket",
        "feedback.add_ticket",
        "feedback.change_ticket",
        "feedback.view_ticketmessage",
        "feedback.add_ticketmessage",
        "feedback.view_ticketevent",
        "feedback.view_rootcause",
        # Use the saved replies (the ticket page's picker).
        "feedback.view_savedreply",
        # Read what the ticket is about.
        "customers.view_customer",
        "touchpoints.view_touchpoint",
        "touchpoints.view_interaction",
        "feedback.view_survey",
        "feedback.view_invitation",
        "feedback.view_response",
        "feedback.view_outboundemail",
        "feedback.view_inboundemail",
        # Comment insights: read the taxonomy and the enriched texts; correct a text's topics.
        "feedback.view_topic",
        "feedback.view_commentinsight",
        "feedback.view_topicassignment",
        "feedback.change_topicassignment",
    }
)
MANAGER_PERMISSIONS = AGENT_PERMISSIONS | {
    # Run the programme: surveys, touchpoints, root causes, the dashboard and journey map.
    "feedback.add_survey",
    "feedback.change_survey",
    "feedback.delete_survey",
    "feedback.add_rootcause",
    "feedback.change_rootcause",
    "feedback.delete_rootcause",
    # Keep the saved replies staff pick on the ticket page.
    "feedback.add_savedreply",
    "feedback.change_savedreply",
    "feedback.delete_savedreply",
    "touchpoints.add_touchpoint",
    "touchpoints.change_touchpoint",
    "touchpoints.delete_touchpoint",
    "feedback.view_dashboard",
    # Keep the taxonomy of comment topics; read the insight alerts.
    "feedback.add_topic",
    "feedback.change_topic",
    "feedback.delete_topic",
    "feedback.view_insightalert",
    # Resend or cancel invitations; process an inbound email again.
    "feedback.change_invitation",
    "feedback.change_inboundemail",
    # Webhooks: register, edit, remove endpoints; read and redeliver their log.
    "cxcrm.view_webhookendpoint",
    "cxcrm.add_webhookendpoint",
    "cxcrm.change_webhookendpoint",
    "cxcrm.delete_webhookendpoint",
    "cxcrm.view_webhookdelivery",
    "cxcrm.change_webhookdelivery",
    # The system status page: stuck claims, the last dispatch error, worker heartbeats.
    "cxcrm.view_systemstatus",
}


def role_permissions(role: str) -> frozenset[str] | None:
    """The permissions of a role; None for Admin (all of them)."""
    return {AGENT: AGENT_PERMISSIONS, MANAGER: frozenset(MANAGER_PERMISSIONS), ADMIN: None}[role]


def roles_sync(*, using: str = "default", **kwargs: Any) -> None:
    """Set the three groups to the table above (post_migrate, after every migrate and flush).
    A name matching no permission is skipped with a warning (a database migrated back to an
    older state); tests/unit/test_roles.py checks that every name exists."""
    from django.contrib.auth.models import Group, Permission

    everything = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role in ROLES:
        wanted = role_permissions(role)
        if wanted is None:
            ids = list(everything.values())
        else:
            missing = sorted(wanted - everything.keys())
            if missing:
                log.warning("role %s: no such permissions (yet): %s", role, ", ".join(missing))
            ids = [everything[name] for name in wanted if name in everything]
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(ids)
