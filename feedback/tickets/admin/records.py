"""Back-office of root causes, and of ticket messages and events (view only: the ticket page
writes them)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cxcrm.admin_lists import BigTableAdminMixin, recent_filter
from feedback.surveys.admin import ViewOnlyMixin, excerpt
from feedback.tickets.admin.workspace import EVENT_ACTIONS, event_value
from feedback.tickets.models import RootCause, TicketEvent, TicketMessage


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "description_excerpt"]
    list_editable = ["active"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description=_("Description"))
    def description_excerpt(self, obj: RootCause) -> str:
        return excerpt(obj.description)


@admin.register(TicketMessage)
class TicketMessageAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
    """All messages across tickets; new ones are written on their ticket's page."""

    list_display = ["created_at", "ticket", "direction", "author", "from_email", "body_excerpt"]
    list_filter = ["direction", recent_filter("created_at", _("written"))]
    list_select_related = ["ticket", "author"]
    search_fields = ["body", "message_id__exact", "ticket__subject"]
    search_help_text = _(
        "An exact Message-ID, or words of the body or ticket subject (reads every message: slow)."
    )
    readonly_fields = ["created_at"]

    @admin.display(description=_("Body"))
    def body_excerpt(self, obj: TicketMessage) -> str:
        return excerpt(obj.body)


@admin.register(TicketEvent)
class TicketEventAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "ticket", "action_label", "from_label", "to_label", "actor"]
    list_select_related = ["ticket", "actor"]
    list_filter = [recent_filter("created_at", _("when"))]
    search_fields = ["action", "ticket__subject", "note"]
    search_help_text = _("Words of the action, ticket subject or note (reads every event: slow).")
    readonly_fields = ["created_at"]

    # Events store machine names (status codes, priority names); staff read them in words, as
    # in the workspace's history.
    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj: TicketEvent) -> str:
        return str(EVENT_ACTIONS.get(obj.action, obj.action))

    @admin.display(description=_("from value"))
    def from_label(self, obj: TicketEvent) -> str:
        return event_value(obj.action, obj.from_value)

    @admin.display(description=_("to value"))
    def to_label(self, obj: TicketEvent) -> str:
        return event_value(obj.action, obj.to_value)
