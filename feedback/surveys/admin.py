"""Back-office of surveys, invitations, answers and the outbox.

Every changelist runs a constant number of queries whatever the page size: relations shown in a
column are joined (list_select_related), many-to-many columns are prefetched."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cxcrm.admin_lists import BigTableAdminMixin, recent_filter
from feedback.surveys import signals
from feedback.surveys.emails import render_invitation
from feedback.surveys.models import EmailKind, Invitation, OutboundEmail, Response, Survey
from feedback.surveys.services.invitations import invitation_cancel, invitation_resend
from feedback.tickets.models import Ticket

EXCERPT_CHARS = 80


def excerpt(text: str) -> SafeString | str:
    """The start of a text someone wrote, in its own direction (an Arabic comment reads right
    to left inside a left-to-right list, and English inside an Arabic one)."""
    if not text:
        return ""
    return format_html(
        '<span dir="auto">{}</span>', Truncator(" ".join(text.split())).chars(EXCERPT_CHARS)
    )


class ViewOnlyMixin:
    """Rows written by the system (audit, outbox, heartbeats): staff may look, never type."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "trigger", "active", "loop_enabled", "sla_hours", "delay_label"]
    list_filter = ["kind", "active", "loop_enabled", "trigger_stage"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["trigger_touchpoints"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "active", "default_language"]}),
        (
            pgettext_lazy("what starts a survey", "Trigger"),
            {"fields": ["trigger_touchpoints", "trigger_stage", "sample_percent"]},
        ),
        (
            _("Timing"),
            {
                "fields": [
                    "delay",
                    "reminder_after_days",
                    "expires_after_days",
                    "contact_frequency_days",
                ]
            },
        ),
        (_("Texts"), {"fields": ["texts"]}),
        (
            _("Close the loop"),
            {"fields": ["loop_enabled", "ticket_categories", "sla_hours", "acknowledge_customer"]},
        ),
        (_("Audit"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Survey]:
        # The trigger column lists touchpoints: one prefetch per page instead of one per row.
        return super().get_queryset(request).prefetch_related("trigger_touchpoints")

    @admin.display(description=_("delay"), ordering="delay")
    def delay_label(self, obj: Survey) -> str:
        """The delay in words of the staff's language (a timedelta prints "3 days, 0:00:00")."""
        minutes = round(obj.delay.total_seconds() / 60)
        if minutes and minutes % (24 * 60) == 0:
            days = minutes // (24 * 60)
            return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
        if minutes and minutes % 60 == 0:
            hours = minutes // 60
            return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}

    @admin.display(description=pgettext_lazy("what starts a survey", "Trigger"))
    def trigger(self, obj: Survey) -> str:
        parts = [tp.name for tp in obj.trigger_touchpoints.all()]
        if obj.trigger_stage:
            parts.append(gettext("stage: %(stage)s") % {"stage": obj.get_trigger_stage_display()})
        return ", ".join(parts) or "—"


@admin.register(Invitation)
class InvitationAdmin(BigTableAdminMixin, admin.ModelAdmin):
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
    list_filter = [
        "state",
        "purpose",
        "survey",
        recent_filter("scheduled_for", pgettext_lazy("filter: invitations", "scheduled")),
    ]
    list_select_related = ["customer", "survey"]
    search_fields = ["token__exact", "customer__email__exact", "message_id__exact"]
    search_help_text = _("An exact token, customer email or Message-ID.")
    autocomplete_fields = ["survey", "customer", "interaction", "ticket"]
    # The state machine belongs to the dispatcher: a hand-set "sent" without sent_at would break
    # a constraint the form cannot check (sent_at is not in the form), so state is shown only.
    readonly_fields = [
        "token",
        "state",
        "claimed_at",
        "claimed_by",
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
        (_("Schedule"), {"fields": ["state", "scheduled_for", "expires_at"]}),
        (
            _("Delivery"),
            {
                "fields": [
                    "token",
                    "claimed_at",
                    "claimed_by",
                    "sent_at",
                    "reminded_at",
                    "attempts",
                    "last_error",
                    "message_id",
                ]
            },
        ),
        (_("Audit"), {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["resend_now", "cancel_unsent"]

    # Saves and deletes through the admin's own forms bypass the services: the sending days
    # they move are announced for the reporting rollups (see ResponseAdmin).
    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        before = (
            Invitation.objects.filter(pk=obj.pk).values_list("sent_at", flat=True).first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)
        signals.figures_changed.send(sender=Invitation, moments=[before, obj.sent_at])

    def delete_model(self, request: HttpRequest, obj: Invitation) -> None:
        self.delete_queryset(request, Invitation.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        moments = list(queryset.values_list("sent_at", flat=True))
        super().delete_queryset(request, queryset)
        signals.figures_changed.send(sender=Invitation, moments=moments)

    @admin.action(
        description=_("Resend now (sent, failed or cancelled invitations)"),
        permissions=["change"],
    )
    def resend_now(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        done = sum(invitation_resend(invitation_id=pk) for pk in ids)
        skipped = len(ids) - done
        queued = ngettext(
            "%(n)s invitation queued to go out now.",
            "%(n)s invitations queued to go out now.",
            done,
        ) % {"n": done}
        left = ngettext(
            "%(n)s skipped (already answered, expired, still scheduled, or the customer "
            "cannot be emailed).",
            "%(n)s skipped (already answered, expired, still scheduled, or the customer "
            "cannot be emailed).",
            skipped,
        ) % {"n": skipped}
        self.message_user(
            request, f"{queued} {left}", messages.SUCCESS if done else messages.WARNING
        )

    @admin.action(description=_("Cancel (invitations not sent yet)"), permissions=["change"])
    def cancel_unsent(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        done = sum(
            invitation_cancel(invitation_id=pk, reason=f"Cancelled by {request.user}") for pk in ids
        )
        gone = len(ids) - done
        cancelled = ngettext(
            "%(n)s invitation cancelled.", "%(n)s invitations cancelled.", done
        ) % {"n": done}
        sent = ngettext("%(n)s had already gone out.", "%(n)s had already gone out.", gone) % {
            "n": gone
        }
        self.message_user(
            request, f"{cancelled} {sent}", messages.SUCCESS if done else messages.WARNING
        )


def _ticket_link(ticket: Ticket | None) -> str:
    if ticket is None:
        return "—"
    url = reverse("admin:feedback_ticket_change", args=[ticket.pk])
    return format_html('<a href="{}">{}</a>', url, ticket)


@admin.register(Response)
class ResponseAdmin(BigTableAdminMixin, admin.ModelAdmin):
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
    list_filter = [
        "kind",
        "category",
        "channel",
        "survey",
        "touchpoint__stage",
        recent_filter("submitted_at", pgettext_lazy("filter: answers", "submitted")),
    ]
    # "ticket" is the reverse one-to-one: joined so the ticket column costs no query per row.
    list_select_related = ["customer", "survey", "touchpoint", "ticket"]
    search_fields = ["comment", "customer__email__exact"]
    search_help_text = _(
        "A customer's exact email, or words of a comment (reads every answer: slow on a big list;"
        " narrow it with a date filter first)."
    )
    autocomplete_fields = ["invitation", "survey", "customer", "touchpoint"]
    # The customer's words read in their own direction (Arabic, or English on an Arabic answer).
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"dir": "auto", "rows": 4, "cols": 80})}
    }
    readonly_fields = ["category", "ticket_link", "updated_at", "history"]
    fieldsets = [
        (None, {"fields": ["invitation", "survey", "customer", "touchpoint"]}),
        (_("Answer"), {"fields": ["kind", "score", "category", "comment", "answers"]}),
        (_("Context"), {"fields": ["language", "channel", "submitted_at", "ticket_link"]}),
        (_("Audit"), {"fields": ["updated_at", "history"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Response | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # An answer stays tied to the invitation it came in on.
            fields.append("invitation")
        return fields

    # The admin's own saves and deletes bypass the services: the days whose figures they move
    # (before and after the change) are announced, so the reporting rollups recompute them.
    def save_model(self, request: HttpRequest, obj: Response, form: Any, change: bool) -> None:
        before = (
            Response.objects.filter(pk=obj.pk).values_list("submitted_at", flat=True).first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)
        sent_at = obj.invitation.sent_at if obj.invitation_id else None
        signals.figures_changed.send(sender=Response, moments=[before, obj.submitted_at, sent_at])

    def delete_model(self, request: HttpRequest, obj: Response) -> None:
        self.delete_queryset(request, Response.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Response]) -> None:
        moments = [
            moment
            for pair in queryset.values_list("submitted_at", "invitation__sent_at")
            for moment in pair
        ]
        super().delete_queryset(request, queryset)
        signals.figures_changed.send(sender=Response, moments=moments)

    @admin.display(description=_("Comment"))
    def comment_excerpt(self, obj: Response) -> SafeString | str:
        return excerpt(obj.comment)

    @admin.display(description=_("Ticket"))
    def ticket_link(self, obj: Response) -> str:
        try:
            ticket = obj.ticket
        except Ticket.DoesNotExist:
            ticket = None
        return _ticket_link(ticket)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
    """The outbox: what was sent, to whom, and what it looked like."""

    list_display = ["created_at", "to_email", "subject", "kind", "status", "sent_at", "customer"]
    list_filter = [
        "kind",
        "status",
        "possibly_delivered",
        recent_filter("created_at", pgettext_lazy("filter: emails", "created")),
    ]
    list_select_related = ["customer"]
    search_fields = ["to_email", "subject", "message_id__exact"]
    search_help_text = _(
        "An exact Message-ID, or part of the address or subject (reads every email: slow)."
    )
    readonly_fields = ["delivery_doubt", "html_preview", "text_preview", "html_source"]

    @admin.display(description=_("Possibly delivered"))
    def delivery_doubt(self, obj: OutboundEmail) -> str:
        if not obj.possibly_delivered:
            return pgettext("possibly delivered", "No")
        return gettext(
            "Yes: the connection was lost before the server's reply, so the server may have "
            "kept this attempt; the next attempt (same Message-ID) may be a duplicate."
        )

    fieldsets = [
        (None, {"fields": ["to_email", "from_email", "subject", "kind", "status"]}),
        (
            _("Delivery"),
            {
                "fields": [
                    "message_id",
                    "created_at",
                    "sent_at",
                    "delivery_doubt",
                    "error",
                    "headers",
                ]
            },
        ),
        (_("Related"), {"fields": ["customer", "invitation", "ticket"]}),
        # The bodies as rendered (a survey email's are rendered again from its invitation),
        # never the stored columns, which are empty for survey emails and read as "-".
        (_("Text body"), {"fields": ["text_preview"]}),
        (_("HTML body"), {"fields": ["html_preview"]}),
        (_("HTML source"), {"fields": ["html_source"], "classes": ["collapse"]}),
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

    @admin.display(description=_("Text"))
    def text_preview(self, obj: OutboundEmail) -> SafeString | str:
        text = self._bodies(obj)[0]
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text) if text else "—"

    @admin.display(description=_("Rendered"))
    def html_preview(self, obj: OutboundEmail) -> SafeString | str:
        html = self._bodies(obj)[1]
        if not html:
            return "—"
        # format_html escapes the body into the attribute; the empty sandbox forbids scripts,
        # forms, plugins, navigation and same-origin access inside the frame.
        return format_html(
            '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{}" title="{}"'
            ' style="width:640px;max-width:100%;min-height:560px;border:1px solid #ccc;'
            'background:#fff"></iframe>',
            html,
            gettext("HTML body"),
        )

    @admin.display(description=pgettext_lazy("the email's HTML source", "HTML"))
    def html_source(self, obj: OutboundEmail) -> SafeString | str:
        html = self._bodies(obj)[1]
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", html) if html else "—"
