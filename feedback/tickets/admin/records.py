"""Back-office of root causes, and of ticket messages and events (view only: the ticket page
writes them)."""

from __future__ import annotations

from django.contrib import admin

from cxcrm.admin_lists import SafeDateChangeListMixin
from cxcrm.pagination import CappedCountPaginator
from feedback.surveys.admin import ViewOnlyMixin, excerpt
from feedback.tickets.models import RootCause, TicketEvent, TicketMessage


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "description_excerpt"]
    list_editable = ["active"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="Description")
    def description_excerpt(self, obj: RootCause) -> str:
        return excerpt(obj.description)


@admin.register(TicketMessage)
class TicketMessageAdmin(SafeDateChangeListMixin, ViewOnlyMixin, admin.ModelAdmin):
    """All messages across tickets; new ones are written on their ticket's page."""

    list_display = ["created_at", "ticket", "direction", "author", "from_email", "body_excerpt"]
    list_filter = ["direction"]
    list_select_related = ["ticket", "author"]
    search_fields = ["body", "=message_id", "ticket__subject"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = ["created_at"]

    @admin.display(description="Body")
    def body_excerpt(self, obj: TicketMessage) -> str:
        return excerpt(obj.body)


@admin.register(TicketEvent)
class TicketEventAdmin(SafeDateChangeListMixin, ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "ticket", "action", "from_value", "to_value", "actor"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["=action", "ticket__subject", "note"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = ["created_at"]
