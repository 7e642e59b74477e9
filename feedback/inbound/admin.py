"""Back-office of received email: what matched, what needs a person, and processing again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.selectors import customers_by_email
from cxcrm.admin_lists import BigTableAdminMixin, recent_filter
from feedback.inbound.models import INBOUND_NEEDS_ATTENTION, InboundEmail, InboundStatus
from feedback.inbound.services import (
    INBOUND_HANDLEABLE,
    InboundHandlingError,
    inbound_email_attach,
    inbound_email_create_ticket,
    inbound_email_process,
)
from feedback.surveys.admin import ViewOnlyMixin, excerpt
from feedback.tickets.services import TicketError

RAW_PREVIEW_BYTES = 256 * 1024


class InboundStatusFilter(admin.SimpleListFilter):
    """Statuses, the ones that need a person first (unmatched leads), plus all of those at once."""

    title = pgettext_lazy("inbound email", "status")
    parameter_name = "status"
    ATTENTION = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.ATTENTION, gettext("Needs attention"))] + [
            (value, label) for value, label in InboundStatus.choices
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == self.ATTENTION:
            return queryset.filter(status__in=INBOUND_NEEDS_ATTENTION)
        if self.value() in InboundStatus.values:
            return queryset.filter(status=self.value())
        return queryset


# "Create ticket" and "Attach to customer" handle at most this many messages per submit.
HANDLE_LIMIT = 50


class AttachForm(forms.Form):
    """Which customer the mail is about: their number, or an address only one customer has."""

    customer = forms.CharField(
        label=_("Customer (number or email address)"),
        max_length=254,
        help_text=_("Suggested: the customers with the sender's address."),
    )

    def clean_customer(self) -> Customer:
        value = self.cleaned_data["customer"].strip().lstrip("#")
        if value.isascii() and value.isdigit() and len(value) <= 18:
            found = Customer.objects.filter(pk=int(value), erased_at__isnull=True).first()
            if found is None:
                raise forms.ValidationError(
                    gettext("No customer #%(number)s (or they were erased).") % {"number": value}
                )
            return found
        matches = list(customers_by_email(value)[:2])
        if not matches:
            raise forms.ValidationError(
                gettext("No customer has the address %(email)s.") % {"email": value}
            )
        if len(matches) > 1:
            raise forms.ValidationError(
                gettext("Several customers have the address %(email)s: give the customer's number.")
                % {"email": value}
            )
        return matches[0]


@admin.register(InboundEmail)
class InboundEmailAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
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
    list_filter = [
        InboundStatusFilter,
        "source",
        recent_filter("received_at", pgettext_lazy("filter: emails", "received")),
    ]
    list_select_related = ["invitation__customer", "ticket"]
    search_fields = ["from_email", "subject", "message_id__exact"]
    search_help_text = _(
        "An exact Message-ID, or part of the sender or subject (reads every email: slow)."
    )
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
            pgettext_lazy("an email", "Message"),
            {"fields": ["from_email", "to", "envelope_to", "subject", "message_id", "size"]},
        ),
        (pgettext_lazy("email thread", "Thread"), {"fields": ["in_reply_to", "references"]}),
        (
            pgettext_lazy("what an email was matched to", "Matched"),
            {"fields": ["invitation", "response", "ticket"]},
        ),
        (_("New text"), {"fields": ["text"]}),
        (_("Raw message"), {"fields": ["raw_block"], "classes": ["collapse"]}),
    ]
    readonly_fields = ["raw_block"]
    actions = ["process_again", "create_ticket", "attach_to_customer"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundEmail]:
        # The raw message can be megabytes: never load it for a list, only on one message's page.
        return super().get_queryset(request).defer("raw")

    @admin.display(description=_("Customer"))
    def customer(self, obj: InboundEmail) -> str:
        return str(obj.invitation.customer) if obj.invitation else "—"

    @admin.display(description=_("Note"))
    def note_excerpt(self, obj: InboundEmail) -> str:
        return excerpt(obj.note)

    @admin.display(description=_("As received"))
    def raw_block(self, obj: InboundEmail) -> SafeString:
        raw = bytes(obj.raw or b"")
        # Decoded only for reading (bad bytes shown as U+FFFD); the stored bytes are untouched.
        shown = raw[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
        if len(raw) > RAW_PREVIEW_BYTES:
            more = len(raw) - RAW_PREVIEW_BYTES
            shown += "\n\n" + ngettext(
                "[… %(n)s more byte not shown]", "[… %(n)s more bytes not shown]", more
            ) % {"n": more}
        return format_html('<pre style="white-space:pre-wrap;max-height:40em">{}</pre>', shown)

    def has_process_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only; processing again is a Manager's right (cxcrm.roles).
        return request.user.has_perm("feedback.change_inboundemail")

    @admin.action(
        description=_("Process again (failed or stuck messages)"), permissions=["process"]
    )
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        # Only messages nothing was recorded for: matched ones would be recorded twice.
        ids = list(
            queryset.filter(status__in=[InboundStatus.ERROR, InboundStatus.RECEIVED]).values_list(
                "id", flat=True
            )
        )
        results = [inbound_email_process(inbound_email_id=pk, again=True).status for pk in ids]
        failed = results.count(InboundStatus.ERROR)
        skipped = queryset.count() - len(ids)
        again = ngettext(
            "%(n)s message processed again, %(failed)s of them failed again.",
            "%(n)s messages processed again, %(failed)s of them failed again.",
            len(ids),
        ) % {"n": len(ids), "failed": failed}
        left = ngettext(
            "%(n)s skipped (only failed or stuck ones are processed).",
            "%(n)s skipped (only failed or stuck ones are processed).",
            skipped,
        ) % {"n": skipped}
        self.message_user(
            request,
            f"{again} {left}",
            messages.WARNING if failed or not ids else messages.SUCCESS,
        )

    # --- Unmatched mail made into tickets by staff ---

    def has_ticket_permission(self, request: HttpRequest) -> bool:
        # Making a ticket of a customer's mail is ticket work: every role that adds tickets.
        return request.user.has_perm("feedback.add_ticket") and request.user.has_perm(
            "feedback.change_ticket"
        )

    def _handle(
        self,
        request: HttpRequest,
        queryset: QuerySet[InboundEmail],
        handle: Any,
    ) -> None:
        ids = list(queryset.order_by("received_at", "id").values_list("id", flat=True))
        done, refused = [], []
        for pk in ids[:HANDLE_LIMIT]:
            try:
                ticket = handle(pk)
            except (InboundHandlingError, TicketError) as exc:
                refused.append(str(exc))
                continue
            url = reverse("admin:feedback_ticket_change", args=[ticket.pk])
            done.append(format_html('<a href="{}">#{}</a>', url, ticket.pk))
        if done:
            self.message_user(
                request,
                format_html(
                    ngettext(
                        "{count} email recorded on ticket {tickets}.",
                        "{count} emails recorded on tickets {tickets}.",
                        len(done),
                    ),
                    count=len(done),
                    tickets=format_html(", ".join(["{}"] * len(done)), *done),
                ),
                messages.SUCCESS,
            )
        if refused:
            self.message_user(request, " ".join(refused[:10]), messages.WARNING)
        if len(ids) > HANDLE_LIMIT:
            self.message_user(
                request,
                ngettext(
                    "Only the first %(n)s was handled: run it again.",
                    "Only the first %(n)s were handled: run it again.",
                    HANDLE_LIMIT,
                )
                % {"n": HANDLE_LIMIT},
                messages.INFO,
            )

    @admin.action(
        description=_("Create ticket (customer found by the sender's address)"),
        permissions=["ticket"],
    )
    def create_ticket(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        # Nobody with the sender's address: a new customer only for those who may add customers
        # (cxcrm.roles: Admin); the others are told to attach the mail to a customer instead.
        may_add = request.user.has_perm("customers.add_customer")
        self._handle(
            request,
            queryset,
            lambda pk: inbound_email_create_ticket(
                inbound_email_id=pk, actor=request.user, may_add_customer=may_add
            ),
        )

    @admin.action(description=_("Attach to customer…"), permissions=["ticket"])
    def attach_to_customer(
        self, request: HttpRequest, queryset: QuerySet[InboundEmail]
    ) -> HttpResponse | None:
        rows = list(queryset.defer("raw", "text").order_by("received_at", "id")[:HANDLE_LIMIT])
        form = AttachForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            customer = form.cleaned_data["customer"]
            self._handle(
                request,
                queryset,
                lambda pk: inbound_email_attach(
                    inbound_email_id=pk, customer=customer, actor=request.user
                ),
            )
            return None
        senders = {row.from_email.lower() for row in rows if "@" in row.from_email}
        suggested = [c for sender in sorted(senders) for c in customers_by_email(sender)[:5]]
        if not form.is_bound and len(suggested) == 1:
            form = AttachForm(initial={"customer": suggested[0].pk})
        return TemplateResponse(
            request,
            "admin/feedback/inboundemail/attach_form.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Attach email to a customer"),
                "opts": self.model._meta,
                "form": form,
                "rows": rows,
                "handleable": INBOUND_HANDLEABLE,
                "suggested": suggested[:10],
                "action": "attach_to_customer",
                "media": self.media,
            },
        )
