"""The triage queue and the ticket page.

The queue is the ticket changelist (/admin/queue/ redirects here), rendered by the admin's
own templates: open tickets by default, the most urgent first, then the nearest deadline; its
filters are the list filters below and nowhere else; its count stops at ``count_cap``.

The ticket page is the workspace (feedback.tickets.admin.workspace), drawn at the change URL
by ``change_view`` with no model form; only the add page (a ticket made by hand) is the
admin's form. Every change of status, priority or assignee goes through the services in
feedback.tickets.services (which write the TicketEvent and send the emails): the workspace's
forms post to endpoints added by ``get_urls`` that call a service and redirect back
(Post/Redirect/Get); one "work" endpoint saves assignee, status and priority together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers.admin import AuditedViewMixin
from customers.models import AuditAction
from customers.privacy import audit_record
from cxcrm.pagination import CappedCountPaginator
from feedback.surveys.scoring import SurveyKind
from feedback.tickets.admin.actions import TICKET_ACTIONS, form_errors
from feedback.tickets.admin.badges import (
    priority_badge,
    score_badge,
    sla_badge,
    status_badge,
    ticket_label,
)
from feedback.tickets.admin.forms import (
    BulkAssignForm,
    BulkPriorityForm,
)
from feedback.tickets.admin.queue import QUEUE_FIELDS, QUEUE_RELATED, queue_rows
from feedback.tickets.admin.workspace import workspace_response
from feedback.tickets.models import (
    OPEN_TICKET_STATUSES,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    overdue_q,
)
from feedback.tickets.selectors import ticket_queue_ordering, tickets_for_staff
from feedback.tickets.services import (
    TicketError,
    staff_users,
    ticket_assign,
    ticket_due_changed,
    ticket_event_record,
    ticket_set_priority,
    ticket_set_status,
)
from feedback.tickets.signals import ticket_changed

# A bulk action works through at most this many tickets per submit (one transaction each).
BULK_LIMIT = 500
DEFAULT_SLA = timedelta(hours=48)
WORK_FIELDSET = pgettext_lazy("the ticket's fieldset: status, priority, assignee", "Work")


# --- Filters ------------------------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """The working queue (open tickets) unless the user asks for overdue ones, all of them, or
    picks a status in the status filter (then the queue does not hide what they asked for)."""

    title = _("queue")
    parameter_name = "queue"
    OPEN, OVERDUE, ALL = "open", "overdue", "all"
    STATUS_PARAM = "status__exact"

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.status_picked = self.STATUS_PARAM in request.GET
        super().__init__(request, *args, **kwargs)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (self.OPEN, _("Open (the queue)")),
            (self.OVERDUE, _("Overdue (SLA breached)")),
            (self.ALL, _("All tickets")),
        ]

    def effective(self) -> str:
        value = self.value()
        if value in (self.OVERDUE, self.ALL):
            return value
        return self.ALL if self.status_picked else self.OPEN

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        match self.effective():
            case self.OPEN:
                return queryset.filter(status__in=OPEN_TICKET_STATUSES)
            case self.OVERDUE:
                return queryset.filter(overdue_q())
        return queryset

    def choices(self, changelist: ChangeList) -> Any:
        current = self.effective()
        for value, label in self.lookup_choices:
            # Back to the queue (or to overdue) clears a picked status that would contradict it.
            remove = [self.STATUS_PARAM] if value != self.ALL else []
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}, remove),
                "display": label,
            }


# The filters' people and touchpoints change seldom, yet cost a query each on every page of
# the queue: they are cached this many seconds (a new agent or touchpoint shows within it).
FILTER_CHOICES_TIMEOUT = 60


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"
    ME, NOBODY = "me", "none"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        people = cache.get_or_set(
            "cxcrm:ticket-queue:assignees",
            lambda: list(staff_users().order_by("username").values_list("pk", "username")),
            FILTER_CHOICES_TIMEOUT,
        )
        return [(self.ME, _("Me")), (self.NOBODY, _("Unassigned"))] + [
            (str(pk), username) for pk, username in people
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == self.ME:
            return queryset.filter(assignee=request.user)
        if value == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        # A user id, else ignored: isdigit() alone also holds for "²", which int() refuses.
        if value and value.isascii() and value.isdigit() and len(value) <= 18:
            return queryset.filter(assignee_id=int(value))
        return queryset


class TouchpointFilter(admin.RelatedFieldListFilter):
    """The admin's own touchpoint filter, its choices cached like the assignees'."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        load = super().field_choices
        return cache.get_or_set(
            "cxcrm:ticket-queue:touchpoints",
            lambda: load(field, request, model_admin),
            FILTER_CHOICES_TIMEOUT,
        )


class SurveyKindFilter(admin.SimpleListFilter):
    title = _("survey kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(SurveyKind.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in SurveyKind.values:
            return queryset.filter(response__kind=self.value())
        return queryset


# --- Add form (the first message of a ticket made by hand) ---------------------------------------


class NewTicketMessageForm(ModelForm):
    class Meta:
        model = TicketMessage
        fields = ["direction", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "cols": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the customer said is what a ticket made by hand usually starts with.
        self.fields["direction"].initial = MessageDirection.INBOUND
        self.fields["direction"].help_text = _(
            "Recorded on the ticket; no email is sent from here (reply from the ticket page)."
        )


class NewTicketMessageInline(admin.StackedInline):
    """One blank message form on the add page; the ticket page has its own reply and note."""

    model = TicketMessage
    form = NewTicketMessageForm
    extra = 1
    can_delete = False
    verbose_name = _("first message")
    verbose_name_plural = _("First message")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketMessage]:
        return super().get_queryset(request).none()


# --- The admin ----------------------------------------------------------------------------------


@admin.register(Ticket)
class TicketAdmin(AuditedViewMixin, admin.ModelAdmin):
    audit_object_type = "ticket"
    list_display = [
        "ticket",
        "score",
        "priority_col",
        "status_col",
        "sla",
        "assignee",
        "touchpoint",
        "created_at",
    ]
    list_display_links = ["ticket"]
    list_filter = [
        QueueFilter,
        "status",
        "priority",
        AssigneeFilter,
        ("touchpoint", TouchpointFilter),
        "touchpoint__stage",
        SurveyKindFilter,
        "source",
    ]
    search_fields = ["subject", "customer__email", "customer__name", "response__comment"]
    search_help_text = _("Customer email or name, subject, or the answer's comment.")
    show_full_result_count = False
    # No "Show counts" link: facets count every filter's choices over all matching tickets,
    # uncapped, which the capped count exists to avoid.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    # The queue counts to 1,000 (then "1,000+"): staff work it from the top, by filter or
    # search, and a count that stops early keeps the page flat as the table grows.
    count_cap = 1_000
    list_per_page = 50
    # The columns' relations, one join each (Django's default for a list_display with foreign
    # keys, a bare select_related(), would drop the nullable ones: a query per row); the
    # changelist (get_queryset) also loads only the columns it shows.
    list_select_related = QUEUE_RELATED
    autocomplete_fields = ["customer", "response", "touchpoint", "assignee"]
    actions = ["assign_to_me", "assign_to", "set_open", "set_pending", "set_priority"]
    # Named, not admin/feedback/ticket/change_list.html: any other ModelAdmin of Ticket (the
    # bench's stock one) would pick that up without our rows in its context.
    change_list_template = "admin/feedback/ticket/queue.html"

    class Media:
        css = {"all": ["cxcrm/admin.css"]}

    # --- Queue ---

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        tickets = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "feedback_ticket_changelist":
            # The queue loads only the columns it shows; the ticket page, all it shows.
            return tickets.select_related(*QUEUE_RELATED).only(*QUEUE_FIELDS)
        return tickets_for_staff(tickets)

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Ticket],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        return CappedCountPaginator(
            queryset, per_page, orphans, allow_empty_first_page, cap=self.count_cap
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # The queue is a work surface of nine columns beside eight filters: it takes the
        # width the navigation sidebar would (the breadcrumbs and Home still lead everywhere).
        context = {"title": _("Triage queue"), "is_nav_sidebar_enabled": False}
        response = super().changelist_view(request, {**context, **(extra_context or {})})
        # The rows are drawn by our change_list.html from these values (the admin's
        # result_list would call, look up and format each of the 450 cells); the headers,
        # with their sort links, are still the admin's.
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            cl = context["cl"]
            context["queue_headers"] = headers = list(result_headers(cl))
            context["queue_sorted_fields"] = sum(
                1 for h in headers if h["sortable"] and h["sorted"]
            )
            context["queue_rows"] = queue_rows(cl, cl.result_list, timezone.now())
        return response

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The admin lists the site-wide actions (Django's "Delete selected tickets", the CSV
        # export) before ours; the everyday ones come first and the destructive one last. It is
        # only there for users with the delete permission (its own allowed_permissions).
        actions = super().get_actions(request)
        delete = actions.pop("delete_selected", None)
        if delete is not None:
            actions["delete_selected"] = delete
        return actions

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        queue = QueueFilter(request, dict(request.GET.lists()), self.model, self)
        return ticket_queue_ordering(only_open=queue.effective() != QueueFilter.ALL)

    @admin.display(description=_("Ticket"), ordering="id")
    def ticket(self, obj: Ticket) -> SafeString:
        return ticket_label(obj)

    @admin.display(description=_("Score"), ordering="response__score")
    def score(self, obj: Ticket) -> SafeString | str:
        return score_badge(obj)

    @admin.display(description=_("Priority"), ordering="priority")
    def priority_col(self, obj: Ticket) -> SafeString:
        return priority_badge(obj.priority)

    @admin.display(description=_("Status"), ordering="status")
    def status_col(self, obj: Ticket) -> SafeString:
        return status_badge(obj)

    @admin.display(description=_("SLA"), ordering="due_at")
    def sla(self, obj: Ticket) -> SafeString:
        return sla_badge(obj)

    # --- Bulk actions (each ticket through its service, each in its own transaction) ---

    def _bulk(
        self,
        request: HttpRequest,
        queryset: QuerySet[Ticket],
        call: Callable[[int], object],
        what: str,
        done_text: Callable[[int], str],
    ) -> None:
        """``what`` is the audit trail's summary (English, a record); ``done_text(n)`` the
        message the user reads, a plural form for n tickets in their language."""
        ids = list(queryset.order_by().values_list("id", flat=True)[:BULK_LIMIT])
        done, refused = 0, []
        for pk in ids:
            try:
                call(pk)
            except TicketError as exc:
                refused.append(f"#{pk}: {exc}")
                continue
            done += 1
            audit_record(
                actor=request.user,
                action=AuditAction.CHANGED,
                object_type="ticket",
                object_id=pk,
                summary=what,
            )
        if done:
            self.message_user(request, done_text(done), messages.SUCCESS)
        if refused:
            refusals = {"tickets": "; ".join(refused[:10])}
            self.message_user(
                request, gettext("Not changed: %(tickets)s") % refusals, messages.WARNING
            )

    def _bulk_form_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Ticket],
        form: forms.Form,
        action: str,
        title: str,
    ) -> TemplateResponse:
        tickets = list(queryset.order_by()[:BULK_LIMIT])
        return TemplateResponse(
            request,
            "admin/feedback/ticket/bulk_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "form": form,
                "tickets": tickets,
                "action": action,
                "media": self.media,
            },
        )

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._bulk(
            request,
            queryset,
            lambda pk: ticket_assign(ticket_id=pk, assignee=request.user, actor=request.user),
            f"Assigned to {request.user.get_username()}",
            lambda n: _assigned_text(n, request.user.get_username()),
        )

    @admin.action(description=_("Assign to…"), permissions=["change"])
    def assign_to(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> Any:
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            title = gettext("Assign tickets")
            return self._bulk_form_page(request, queryset, form, "assign_to", title)
        assignee = form.cleaned_data["assignee"]
        self._bulk(
            request,
            queryset,
            lambda pk: ticket_assign(ticket_id=pk, assignee=assignee, actor=request.user),
            f"Assigned to {assignee.get_username()}",
            lambda n: _assigned_text(n, assignee.get_username()),
        )
        return None

    @admin.action(description=_("Set status: open"), permissions=["change"])
    def set_open(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._bulk(
            request,
            queryset,
            lambda pk: ticket_set_status(
                ticket_id=pk, status=TicketStatus.OPEN, actor=request.user
            ),
            "Status set to open",
            lambda n: (
                ngettext(
                    "Status set to open on %(count)d ticket.",
                    "Status set to open on %(count)d tickets.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Set status: pending customer"), permissions=["change"])
    def set_pending(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._bulk(
            request,
            queryset,
            lambda pk: ticket_set_status(
                ticket_id=pk, status=TicketStatus.PENDING, actor=request.user
            ),
            "Status set to pending customer",
            lambda n: (
                ngettext(
                    "Status set to pending customer on %(count)d ticket.",
                    "Status set to pending customer on %(count)d tickets.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Set priority…"), permissions=["change"])
    def set_priority(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> Any:
        form = BulkPriorityForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._bulk_form_page(
                request, queryset, form, "set_priority", gettext("Set the priority of tickets")
            )
        priority = form.cleaned_data["priority"]
        self._bulk(
            request,
            queryset,
            lambda pk: ticket_set_priority(ticket_id=pk, priority=priority, actor=request.user),
            f"Priority set to {TicketPriority(priority).label}",
            lambda n: (
                ngettext(
                    "Priority set to %(priority)s on %(count)d ticket.",
                    "Priority set to %(priority)s on %(count)d tickets.",
                    n,
                )
                % {"priority": TicketPriority(priority).label, "count": n}
            ),
        )
        return None

    # --- The ticket page ---

    def get_inlines(self, request: HttpRequest, obj: Ticket | None) -> list[type[Any]]:
        # The ticket page renders its thread and history itself (ticket_page_context).
        return [NewTicketMessageInline] if obj is None else []

    def get_readonly_fields(self, request: HttpRequest, obj: Ticket | None = None) -> list[str]:
        worked = [
            "status",
            "first_contact_at",
            "root_cause",
            "resolution",
            "resolved_at",
            "escalated_at",
            "recovered",
            "created_at",
            "updated_at",
        ]
        if obj is None:
            return worked
        # Status, priority and assignee change only through the page's action forms (services
        # write the event and send the emails); who and what the ticket is about are fixed.
        return ["customer", "response", "source", "priority", "assignee", *worked]

    def get_fieldsets(self, request: HttpRequest, obj: Ticket | None = None) -> Any:
        if obj is None:
            return [
                (None, {"fields": ["subject", "customer", "touchpoint", "source", "response"]}),
                (WORK_FIELDSET, {"fields": ["status", "priority", "assignee", "due_at"]}),
                (
                    _("Resolution"),
                    {
                        "fields": [
                            "first_contact_at",
                            "root_cause",
                            "resolution",
                            "resolved_at",
                            "escalated_at",
                            "recovered",
                            "created_at",
                            "updated_at",
                        ],
                        "classes": ["collapse"],
                    },
                ),
            ]
        return [
            (None, {"fields": ["subject", "touchpoint", "due_at"]}),
            (
                pgettext_lazy("the ticket's stored fields", "Record"),
                {
                    "fields": [
                        "customer",
                        "response",
                        "source",
                        "status",
                        "priority",
                        "assignee",
                        "first_contact_at",
                        "escalated_at",
                        "root_cause",
                        "resolution",
                        "resolved_at",
                        "recovered",
                        "created_at",
                        "updated_at",
                    ],
                    "classes": ["collapse"],
                },
            ),
        ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {
            "due_at": timezone.now() + DEFAULT_SLA,
            **super().get_changeform_initial_data(request),
        }

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """An existing ticket opens in the workspace (our template, no model form); the
        admin's change view is left for what it answers itself (an unknown id)."""
        ticket = self.get_object(request, object_id)
        if ticket is None:
            return super().change_view(request, object_id, form_url, extra_context)
        if not self.has_view_permission(request, ticket):
            raise PermissionDenied
        if request.method != "GET":
            # Changes post to the action endpoints; there is no form to save here.
            return HttpResponseNotAllowed(["GET"])
        audit_record(
            actor=request.user,
            action=AuditAction.VIEWED,
            object_type=self.audit_object_type,
            object_id=ticket.pk,
        )
        return workspace_response(self, request, ticket, list(TICKET_ACTIONS))

    # A delete bypasses the services' events: the created days it moves are announced for the
    # reporting rollups, like every change (feedback.tickets.signals).
    def delete_model(self, request: HttpRequest, obj: Ticket) -> None:
        self.delete_queryset(request, Ticket.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        days = list(queryset.values_list("created_at", flat=True))
        super().delete_queryset(request, queryset)
        for created_at in days:
            ticket_changed.send(sender=Ticket, created_at=created_at)

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        due_changed = False
        if change:
            # The time widget drops microseconds: compare whole seconds, and keep the stored
            # value when the deadline was not really moved.
            old = form.initial.get("due_at")
            due_changed = _whole_seconds(old) != _whole_seconds(obj.due_at)
            if not due_changed:
                obj.due_at = old
        super().save_model(request, obj, form, change)
        if not change:
            # A ticket made by hand gets the same opening events as one made by a service.
            ticket_event_record(obj, "created", actor=request.user, to_value=obj.status)
            if obj.assignee is not None:
                ticket_event_record(
                    obj, "assignee", actor=request.user, to_value=obj.assignee.get_username()
                )
        elif due_changed:
            old = form.initial.get("due_at")
            ticket_event_record(
                obj,
                "due_at",
                actor=request.user,
                from_value=old.isoformat() if old else "",
                to_value=obj.due_at.isoformat() if obj.due_at else "",
            )
            # A new deadline is a new SLA: a later breach of it may be escalated again.
            ticket_due_changed(obj)
        audit_record(
            actor=request.user,
            action=AuditAction.CHANGED if change else AuditAction.ADDED,
            object_type="ticket",
            object_id=obj.pk,
            summary=", ".join(form.changed_data)[:255],
        )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        for message in formset.save(commit=False):
            if message.pk is None and message.author_id is None:
                message.author = request.user
            message.save()
        formset.save_m2m()

    # --- Action endpoints ---

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        # admin_view: staff sign-in, CSRF protection, never cached.
        ours = [
            path(
                f"<int:object_id>/{name}/",
                self.admin_site.admin_view(self.ticket_action_view),
                {"action": name},
                name="{}_{}_{}".format(*info, name),
            )
            for name in TICKET_ACTIONS
        ]
        return ours + super().get_urls()

    def ticket_action_view(self, request: HttpRequest, object_id: int, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        ticket = self.get_object(request, str(object_id))
        if ticket is None:
            raise Http404("No such ticket.")
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        back = redirect(reverse("admin:feedback_ticket_change", args=[ticket.pk]))
        spec = TICKET_ACTIONS[action]
        form = spec.form(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return back
        try:
            text = spec.run(ticket, form.cleaned_data, request.user)
        except TicketError as exc:
            messages.error(request, str(exc))
            return back
        audit_record(
            actor=request.user,
            action=AuditAction.CHANGED,
            object_type="ticket",
            object_id=ticket.pk,
            summary=action,
        )
        messages.success(request, text)
        return back


def _assigned_text(count: int, name: str) -> str:
    return ngettext(
        "Assigned %(count)d ticket to %(name)s.", "Assigned %(count)d tickets to %(name)s.", count
    ) % {"count": count, "name": name}


def _whole_seconds(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value else None
