"""Back-office for surveys, invitations, answers, tickets and the outbox.

Every changelist runs a constant number of queries whatever the page size: relations shown in a
column are joined (list_select_related), many-to-many columns are prefetched, and inline rows
whose foreign keys would otherwise render one query each are view-only with the relation joined.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from cxcrm.pagination import CappedCountPaginator
from feedback.inbound.models import INBOUND_NEEDS_ATTENTION, InboundEmail, InboundStatus
from feedback.inbound.services import inbound_email_process
from feedback.surveys.emails import render_invitation
from feedback.surveys.models import EmailKind, Invitation, OutboundEmail, Response, Survey
from feedback.surveys.services.invitations import invitation_cancel, invitation_resend
from feedback.tickets.models import RootCause, Ticket, TicketEvent, TicketMessage

EXCERPT_CHARS = 80


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(EXCERPT_CHARS)


class ViewOnlyMixin:
    """Rows written by the system (audit, outbox, heartbeats): staff may look, never type."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Surveys ------------------------------------------------------------------------------------


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "trigger", "active", "loop_enabled", "sla_hours", "delay"]
    list_filter = ["kind", "active", "loop_enabled", "trigger_stage"]
    search_fields = ["name"]
    autocomplete_fields = ["trigger_touchpoints"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "active", "default_language"]}),
        ("Trigger", {"fields": ["trigger_touchpoints", "trigger_stage", "sample_percent"]}),
        (
            "Timing",
            {
                "fields": [
                    "delay",
                    "reminder_after_days",
                    "expires_after_days",
                    "contact_frequency_days",
                ]
            },
        ),
        ("Texts", {"fields": ["texts"]}),
        (
            "Close the loop",
            {"fields": ["loop_enabled", "ticket_categories", "sla_hours", "acknowledge_customer"]},
        ),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Survey]:
        # The trigger column lists touchpoints: one prefetch per page instead of one per row.
        return super().get_queryset(request).prefetch_related("trigger_touchpoints")

    @admin.display(description="Trigger")
    def trigger(self, obj: Survey) -> str:
        parts = [tp.name for tp in obj.trigger_touchpoints.all()]
        if obj.trigger_stage:
            parts.append(f"stage: {obj.get_trigger_stage_display()}")
        return ", ".join(parts) or "—"


# --- Invitations --------------------------------------------------------------------------------


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "customer",
        "survey",
        "purpose",
        "state",
        "scheduled_for",
        "sent_at",
        "attempts",
    ]
    list_filter = ["state", "purpose", "survey", "scheduled_for"]
    list_select_related = ["customer", "survey"]
    search_fields = ["=token", "customer__email", "=message_id"]
    date_hierarchy = "scheduled_for"
    show_full_result_count = False
    paginator = CappedCountPaginator
    autocomplete_fields = ["survey", "customer", "interaction", "ticket"]
    # The state machine belongs to the dispatcher: a hand-set "sent" without sent_at would break
    # a constraint the form cannot check (sent_at is not in the form), so state is shown only.
    readonly_fields = [
        "token",
        "state",
        "claimed_at",
        "sent_at",
        "reminded_at",
        "attempts",
        "last_error",
        "message_id",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["survey", "customer", "purpose", "interaction", "ticket"]}),
        ("Schedule", {"fields": ["state", "scheduled_for", "expires_at"]}),
        (
            "Delivery",
            {
                "fields": [
                    "token",
                    "claimed_at",
                    "sent_at",
                    "reminded_at",
                    "attempts",
                    "last_error",
                    "message_id",
                ]
            },
        ),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["resend_now", "cancel_unsent"]

    @admin.action(description="Resend now (sent, failed or cancelled invitations)")
    def resend_now(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        done = sum(invitation_resend(invitation_id=pk) for pk in ids)
        skipped = len(ids) - done
        self.message_user(
            request,
            f"{done} invitation(s) queued to go out now; {skipped} skipped (already answered, "
            "expired, still scheduled, or the customer cannot be emailed).",
            messages.SUCCESS if done else messages.WARNING,
        )

    @admin.action(description="Cancel (invitations not sent yet)")
    def cancel_unsent(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        done = sum(
            invitation_cancel(invitation_id=pk, reason=f"Cancelled by {request.user}") for pk in ids
        )
        self.message_user(
            request,
            f"{done} invitation(s) cancelled; {len(ids) - done} had already gone out.",
            messages.SUCCESS if done else messages.WARNING,
        )


# --- Responses ----------------------------------------------------------------------------------


def _ticket_link(ticket: Ticket | None) -> str:
    if ticket is None:
        return "—"
    url = reverse("admin:feedback_ticket_change", args=[ticket.pk])
    return format_html('<a href="{}">{}</a>', url, ticket)


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = [
        "submitted_at",
        "customer",
        "survey",
        "kind",
        "score",
        "category",
        "touchpoint",
        "channel",
        "comment_excerpt",
        "ticket_link",
    ]
    list_filter = ["kind", "category", "channel", "survey", "touchpoint__stage"]
    # "ticket" is the reverse one-to-one: joined so the ticket column costs no query per row.
    list_select_related = ["customer", "survey", "touchpoint", "ticket"]
    search_fields = ["comment", "customer__email"]
    date_hierarchy = "submitted_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    autocomplete_fields = ["invitation", "survey", "customer", "touchpoint"]
    readonly_fields = ["category", "ticket_link", "updated_at", "history"]
    fieldsets = [
        (None, {"fields": ["invitation", "survey", "customer", "touchpoint"]}),
        ("Answer", {"fields": ["kind", "score", "category", "comment", "answers"]}),
        ("Context", {"fields": ["language", "channel", "submitted_at", "ticket_link"]}),
        ("Audit", {"fields": ["updated_at", "history"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Response | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # An answer stays tied to the invitation it came in on.
            fields.append("invitation")
        return fields

    @admin.display(description="Comment")
    def comment_excerpt(self, obj: Response) -> str:
        return _excerpt(obj.comment)

    @admin.display(description="Ticket")
    def ticket_link(self, obj: Response) -> str:
        try:
            ticket = obj.ticket
        except Ticket.DoesNotExist:
            ticket = None
        return _ticket_link(ticket)


# --- Tickets ------------------------------------------------------------------------------------


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "description_excerpt"]
    list_editable = ["active"]
    list_filter = ["active"]
    search_fields = ["name"]

    @admin.display(description="Description")
    def description_excerpt(self, obj: RootCause) -> str:
        return _excerpt(obj.description)


@admin.register(TicketMessage)
class TicketMessageAdmin(ViewOnlyMixin, admin.ModelAdmin):
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
        return _excerpt(obj.body)


@admin.register(TicketEvent)
class TicketEventAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "ticket", "action", "from_value", "to_value", "actor"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["=action", "ticket__subject", "note"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = ["created_at"]


# --- Outbox -------------------------------------------------------------------------------------


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The outbox: what was sent, to whom, and what it looked like."""

    list_display = ["created_at", "to_email", "subject", "kind", "status", "sent_at", "customer"]
    list_filter = ["kind", "status"]
    list_select_related = ["customer"]
    search_fields = ["to_email", "subject", "=message_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = ["html_preview", "text_preview"]
    fieldsets = [
        (None, {"fields": ["to_email", "from_email", "subject", "kind", "status"]}),
        ("Delivery", {"fields": ["message_id", "created_at", "sent_at", "error", "headers"]}),
        ("Related", {"fields": ["customer", "invitation", "ticket"]}),
        ("Text body", {"fields": ["text_preview", "body_text"]}),
        ("HTML body", {"fields": ["html_preview"]}),
        ("HTML source", {"fields": ["body_html"], "classes": ["collapse"]}),
    ]

    @staticmethod
    def _bodies(obj: OutboundEmail) -> tuple[str, str]:
        """The stored bodies; survey emails store none and are rendered again from their
        invitation (the same template, language and token)."""
        if obj.body_html or obj.body_text or obj.invitation_id is None:
            return obj.body_text, obj.body_html
        if obj.kind not in (EmailKind.SURVEY, EmailKind.REMINDER):
            return obj.body_text, obj.body_html
        rendered = render_invitation(obj.invitation, reminder=obj.kind == EmailKind.REMINDER)
        return rendered.text, rendered.html

    @admin.display(description="Text")
    def text_preview(self, obj: OutboundEmail) -> SafeString | str:
        text = self._bodies(obj)[0]
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text) if text else "—"

    @admin.display(description="Rendered")
    def html_preview(self, obj: OutboundEmail) -> SafeString | str:
        html = self._bodies(obj)[1]
        if not html:
            return "—"
        # format_html escapes the body into the attribute; the empty sandbox forbids scripts,
        # forms, plugins, navigation and same-origin access inside the frame.
        return format_html(
            '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{}" title="HTML body"'
            ' style="width:100%;min-height:480px;border:1px solid #ccc;background:#fff">'
            "</iframe>",
            html,
        )


# --- Inbound email ------------------------------------------------------------------------------

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
class InboundEmailAdmin(ViewOnlyMixin, admin.ModelAdmin):
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
        (None, {"fields": ["received_at", "source", "status", "note", "processed_at"]}),
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
        return _excerpt(obj.note)

    @admin.display(description="As received")
    def raw_block(self, obj: InboundEmail) -> SafeString:
        raw = bytes(obj.raw or b"")
        # Decoded only for reading (bad bytes shown as U+FFFD); the stored bytes are untouched.
        shown = raw[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
        if len(raw) > RAW_PREVIEW_BYTES:
            shown += f"\n\n[… {len(raw) - RAW_PREVIEW_BYTES} more bytes not shown]"
        return format_html('<pre style="white-space:pre-wrap;max-height:40em">{}</pre>', shown)

    @admin.action(description="Process again (failed or stuck messages)")
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        # Only messages nothing was recorded for: matched ones would be recorded twice.
        ids = list(
            queryset.filter(status__in=[InboundStatus.ERROR, InboundStatus.RECEIVED]).values_list(
                "id", flat=True
            )
        )
        results = [inbound_email_process(inbound_email_id=pk).status for pk in ids]
        failed = results.count(InboundStatus.ERROR)
        self.message_user(
            request,
            f"{len(ids)} message(s) processed again, {failed} failed again; "
            f"{queryset.count() - len(ids)} skipped (only failed or stuck ones are processed).",
            messages.WARNING if failed or not ids else messages.SUCCESS,
        )
