"""Back-office of received email: what matched, what needs a person, and processing again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from cxcrm.admin_lists import SafeDateChangeListMixin
from cxcrm.pagination import CappedCountPaginator
from feedback.inbound.models import INBOUND_NEEDS_ATTENTION, InboundEmail, InboundStatus
from feedback.inbound.services import inbound_email_process
from feedback.surveys.admin import ViewOnlyMixin, excerpt

RAW_PREVIEW_BYTES = 256 * 1024


class InboundStatusFilter(admin.SimpleListFilter):
    """Statuses, the ones that need a person first (unmatched leads), plus all of those at once."""

    title = "status"
    parameter_name = "status"
    ATTENTION = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.ATTENTION, "Needs attention")] + [
            (value, label) for value, label in InboundStatus.choices
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == self.ATTENTION:
            return queryset.filter(status__in=INBOUND_NEEDS_ATTENTION)
        if self.value() in InboundStatus.values:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(InboundEmail)
class InboundEmailAdmin(SafeDateChangeListMixin, ViewOnlyMixin, admin.ModelAdmin):
    """Every email received on the reply and unsubscribe addresses, matched or not: nothing a
    customer sends is dropped, and what matched nothing waits here for a person."""

    list_display = [
        "received_at",
        "status",
        "from_email",
        "subject",
        "customer",
        "ticket",
        "source",
        "note_excerpt",
    ]
    list_filter = [InboundStatusFilter, "source"]
    list_select_related = ["invitation__customer", "ticket"]
    search_fields = ["from_email", "subject", "=message_id"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "received_at",
                    "source",
                    "status",
                    "note",
                    "processed_at",
                    "attempts",
                    "last_attempt_at",
                ]
            },
        ),
        (
            "Message",
            {"fields": ["from_email", "to", "envelope_to", "subject", "message_id", "size"]},
        ),
        ("Thread", {"fields": ["in_reply_to", "references"]}),
        ("Matched", {"fields": ["invitation", "response", "ticket"]}),
        ("New text", {"fields": ["text"]}),
        ("Raw message", {"fields": ["raw_block"], "classes": ["collapse"]}),
    ]
    readonly_fields = ["raw_block"]
    actions = ["process_again"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundEmail]:
        # The raw message can be megabytes: never load it for a list, only on one message's page.
        return super().get_queryset(request).defer("raw")

    @admin.display(description="Customer")
    def customer(self, obj: InboundEmail) -> str:
        return str(obj.invitation.customer) if obj.invitation else "—"

    @admin.display(description="Note")
    def note_excerpt(self, obj: InboundEmail) -> str:
        return excerpt(obj.note)

    @admin.display(description="As received")
    def raw_block(self, obj: InboundEmail) -> SafeString:
        raw = bytes(obj.raw or b"")
        # Decoded only for reading (bad bytes shown as U+FFFD); the stored bytes are untouched.
        shown = raw[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
        if len(raw) > RAW_PREVIEW_BYTES:
            shown += f"\n\n[… {len(raw) - RAW_PREVIEW_BYTES} more bytes not shown]"
        return format_html('<pre style="white-space:pre-wrap;max-height:40em">{}</pre>', shown)

    def has_process_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only; processing again is a Manager's right (cxcrm.roles).
        return request.user.has_perm("feedback.change_inboundemail")

    @admin.action(description="Process again (failed or stuck messages)", permissions=["process"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        # Only messages nothing was recorded for: matched ones would be recorded twice.
        ids = list(
            queryset.filter(status__in=[InboundStatus.ERROR, InboundStatus.RECEIVED]).values_list(
                "id", flat=True
            )
        )
        results = [inbound_email_process(inbound_email_id=pk, again=True).status for pk in ids]
        failed = results.count(InboundStatus.ERROR)
        self.message_user(
            request,
            f"{len(ids)} message(s) processed again, {failed} failed again; "
            f"{queryset.count() - len(ids)} skipped (only failed or stuck ones are processed).",
            messages.WARNING if failed or not ids else messages.SUCCESS,
        )
