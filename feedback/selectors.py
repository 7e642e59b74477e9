"""Reads of the feedback app."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Case, F, IntegerField, Model, QuerySet, Value, When
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from customers.models import Customer
from cxcrm.prepared import fetchone_prepared
from feedback.models import (
    OPEN_TICKET_STATUSES,
    EmailKind,
    Invitation,
    InvitationPurpose,
    OutboundEmail,
    Response,
    Survey,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from touchpoints.models import Interaction


def _well_formed(token: str) -> bool:
    # str.isalnum() of the whole token less "-" and "_" (the same letters and digits of any
    # script as asking each character): ~1 µs, where a generator over the characters took ~5.
    if not 0 < len(token) <= 64:
        return False
    rest = token.replace("-", "").replace("_", "")
    return rest == "" or rest.isalnum()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a public link names, or None. Malformed tokens never reach the database."""
    if not _well_formed(token):
        return None
    return Invitation.objects.select_related("customer", "survey").filter(token=token).first()


class SurveyLink(NamedTuple):
    """An invitation as the survey pages read it: with its survey and customer attached, and
    its answer (None: not answered yet)."""

    invitation: Invitation
    response: Response | None


# What the survey, follow-up, thanks and closed pages read of each row (feedback/views.py).
# Reading another field of these instances costs a query of its own (the field is deferred).
SURVEY_LINK_FIELDS: dict[type[Model], tuple[str, ...]] = {
    Invitation: ("id", "survey_id", "customer_id", "token", "state", "expires_at"),
    Survey: ("id", "kind", "default_language", "texts"),
    Customer: ("id", "phone", "language"),
    Response: ("id", "score", "category", "comment"),
}


def survey_link(token: str) -> SurveyLink | None:
    """The invitation a survey link names, with all the survey pages read of it, in one
    query; None for an unknown or malformed token.

    Every emailed link opens the survey page, so this is the product's hottest read. Its SQL
    is built once per process (``_survey_link_sql``) and the row becomes model instances
    through ``Model.from_db``, with the conversions the ORM's own iterator applies. The
    same read through the ORM (select_related and only()) took ~1.0 ms of CPU a call, most
    of it compiling the query again; this takes ~0.2 ms (python -m bench.survey_page). On
    PostgreSQL the statement is prepared on the connection (cxcrm.prepared): planning the
    join each time cost PostgreSQL more than running it.
    """
    if not _well_formed(token):
        return None
    row = fetchone_prepared(_survey_link_sql(), [token])
    if row is None:
        return None
    alias = connection.alias
    plain = not (pre_init.receivers or post_init.receivers)
    instances: list[Model | None] = []
    for model, start, names, converters in _survey_link_plan():
        values = list(row[start : start + len(names)])
        for i, expression, functions in converters:
            for convert in functions:
                values[i] = convert(values[i], expression, connection)
        # The answer's columns are all NULL when the LEFT JOIN found none.
        if values[0] is None:
            instances.append(None)
        elif plain:
            instances.append(_loaded(model, alias, names, values))
        else:
            instances.append(model.from_db(alias, names, values))
    invitation, survey, customer, response = instances
    assert isinstance(invitation, Invitation)
    # As select_related attaches them (the relation's cache), not through the descriptors.
    _SURVEY.set_cached_value(invitation, survey)
    _CUSTOMER.set_cached_value(invitation, customer)
    return SurveyLink(invitation, response)  # type: ignore[arg-type]


_SURVEY = Invitation._meta.get_field("survey")
_CUSTOMER = Invitation._meta.get_field("customer")


def _loaded(model: type[Model], alias: str, names: list[str], values: list[Any]) -> Model:
    """What ``model.from_db(alias, names, values)`` returns, made without ``Model.__init__``.

    ``from_db`` lists every concrete field (DEFERRED for those not read) and ``__init__``
    sets each through its descriptor and sends pre_init and post_init: ~10 µs an instance,
    three a survey page. For these models every field's descriptor stores the value in the
    instance's ``__dict__`` (checked in ``_survey_link_plan``) and a deferred field is one
    missing from it, so filling ``__dict__`` makes the same instance. Used only while no
    pre_init/post_init receiver is connected (they would not be called here).
    """
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    instance.__dict__["_state"] = state
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


Converters = list[tuple[Any, list[Any]]]

# Descriptors that keep a field's value in the instance's __dict__ and do nothing else when
# a fresh instance is filled (the FK one also drops a cached relation, which a fresh one lacks).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


@functools.cache
def _survey_link_plan() -> list[
    tuple[type[Model], int, list[str], list[tuple[int, Any, list[Any]]]]
]:
    """Per model: where its columns start in the row, their names, and only the columns that
    have conversions (on PostgreSQL, none but JSON's), with their position."""
    plan = []
    start = 0
    for model, names, converters in _survey_link_columns():
        for name in names:
            descriptor = model.__dict__.get(name)
            if type(descriptor) not in _PLAIN_DESCRIPTORS:
                raise ImproperlyConfigured(
                    f"survey_link fills {model.__name__}.{name} directly, but its descriptor "
                    f"is {type(descriptor).__name__}: read it with from_db instead"
                )
        converted = [
            (i, expression, functions)
            for i, (expression, functions) in enumerate(converters)
            if functions
        ]
        plan.append((model, start, names, converted))
        start += len(names)
    return plan


@functools.cache
def _survey_link_columns() -> list[tuple[type[Model], list[str], Converters]]:
    """Per model: the columns' attribute names in the model's field order (Model.from_db
    takes them in that order) and the conversions the ORM applies to each value read, the
    database backend's then the field's (e.g. JSON decoded; on SQLite, dates parsed)."""
    found = []
    for model, names in SURVEY_LINK_FIELDS.items():
        fields = [f for f in model._meta.concrete_fields if f.attname in names]
        converters = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            functions = [
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            ]
            converters.append((column, functions))
        found.append((model, [f.attname for f in fields], converters))
    return found


@functools.cache
def _survey_link_sql() -> str:
    quote = connection.ops.quote_name
    aliases = dict(zip(SURVEY_LINK_FIELDS, ("i", "s", "c", "r"), strict=True))

    def table(model: type[Model]) -> str:
        return f"{quote(model._meta.db_table)} {aliases[model]}"

    def column(model: type[Model], name: str) -> str:
        return f"{aliases[model]}.{quote(model._meta.get_field(name).column)}"

    columns = ", ".join(
        column(model, name) for model, names, _ in _survey_link_columns() for name in names
    )

    return (
        f"SELECT {columns} FROM {table(Invitation)} "
        f"JOIN {table(Survey)} ON {column(Survey, 'id')} = {column(Invitation, 'survey')} "
        f"JOIN {table(Customer)} ON {column(Customer, 'id')} = {column(Invitation, 'customer')} "
        f"LEFT JOIN {table(Response)} "
        f"ON {column(Response, 'invitation')} = {column(Invitation, 'id')} "
        f"WHERE {column(Invitation, 'token')} = %s"
    )


def responses_missing_ticket(
    *, older_than: timedelta, window: timedelta = timedelta(days=3)
) -> list[int]:
    """Recent answers in their survey's loop categories that have no ticket yet."""
    now = timezone.now()
    candidates = (
        Response.objects.filter(
            ticket__isnull=True,
            submitted_at__lt=now - older_than,
            submitted_at__gte=now - window,
        )
        .exclude(invitation__purpose=InvitationPurpose.FOLLOWUP)
        .select_related("survey")
        .only("id", "category", "survey__loop_enabled", "survey__ticket_categories", "survey__kind")
    )
    return [r.pk for r in candidates[:2000] if r.category in r.survey.loop_categories]


# --- The triage queue and the ticket page (admin) ----------------------------------------------

# The ticket page shows at most this many messages and events (the newest).
TICKET_PAGE_ROWS = 200


def tickets_for_staff(queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Tickets with every relation the queue's columns and the ticket page's header show,
    joined in the one query that loads them."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    return queryset.select_related(
        "customer", "assignee", "touchpoint", "response__survey", "root_cause"
    )


def ticket_queue_ordering(*, only_open: bool = False) -> list[Any]:
    """The queue's order: open tickets first (so a list of all tickets still leads with the
    work), the most urgent on top, then the nearest deadline, tickets without one last.
    Expressions rather than an annotation, so that any queryset of tickets can use it.
    When the list holds only open tickets the open-first term is constant and is left out, so
    PostgreSQL can read the page straight from the partial index ticket_open_queue_idx."""
    if only_open:
        return ["-priority", F("due_at").asc(nulls_last=True), "id"]
    open_first = Case(
        When(status__in=OPEN_TICKET_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return [open_first.asc(), "-priority", F("due_at").asc(nulls_last=True), "id"]


@dataclass(frozen=True)
class TimelineItem:
    """One thing that happened between the customer and us, for the ticket page's timeline."""

    at: datetime
    kind: str  # interaction, invitation, response, ticket: also the CSS modifier
    title: str
    detail: str
    url: str
    current: bool = False


def _admin_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def customer_timeline(
    customer_id: int, *, limit: int = 50, current_ticket_id: int | None = None
) -> list[TimelineItem]:
    """The customer's interactions, invitations, answers and tickets, newest first.

    Four queries whatever the history's length: each source is read newest first up to
    ``limit`` rows (its relations joined), then the four are merged; no source can crowd the
    page with more than ``limit`` rows, and the merge keeps the newest ``limit`` overall."""
    items: list[TimelineItem] = []
    interactions = (
        Interaction.objects.filter(customer_id=customer_id)
        .select_related("touchpoint")
        .order_by("-occurred_at", "-id")[:limit]
    )
    for interaction in interactions:
        money = f"{interaction.amount} {interaction.currency}".strip() if interaction.amount else ""
        detail = " · ".join(p for p in (interaction.order_ref, money, interaction.source) if p)
        items.append(
            TimelineItem(
                interaction.occurred_at,
                "interaction",
                str(interaction.touchpoint.name),
                detail,
                _admin_url(interaction),
            )
        )
    invitations = (
        Invitation.objects.filter(customer_id=customer_id)
        .select_related("survey")
        .order_by("-created_at", "-id")[:limit]
    )
    for invitation in invitations:
        what = "Follow-up" if invitation.purpose == InvitationPurpose.FOLLOWUP else "Invitation"
        items.append(
            TimelineItem(
                invitation.sent_at or invitation.scheduled_for,
                "invitation",
                f"{what}: {invitation.survey.name}",
                invitation.get_state_display(),
                _admin_url(invitation),
            )
        )
    responses = (
        Response.objects.filter(customer_id=customer_id)
        .select_related("touchpoint")
        .order_by("-submitted_at", "-id")[:limit]
    )
    for response in responses:
        where = f" at {response.touchpoint.name}" if response.touchpoint else ""
        items.append(
            TimelineItem(
                response.submitted_at,
                "response",
                f"{response.kind.upper()} {response.score} · {response.get_category_display()}"
                + where,
                Truncator(" ".join(response.comment.split())).chars(140),
                _admin_url(response),
            )
        )
    tickets = Ticket.objects.filter(customer_id=customer_id).order_by("-created_at", "-id")[:limit]
    for ticket in tickets:
        items.append(
            TimelineItem(
                ticket.created_at,
                "ticket",
                f"Ticket #{ticket.pk}: {ticket.subject}",
                ticket.get_status_display(),
                _admin_url(ticket),
                current=ticket.pk == current_ticket_id,
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def ticket_page_context(ticket: Ticket, *, timeline_limit: int = 50) -> dict[str, Any]:
    """What the ticket page shows beside the ticket itself (loaded by tickets_for_staff):
    the thread with each reply's delivery status, the audit trail, the customer's timeline.

    Seven queries: messages (authors joined), reply delivery statuses, events (actors
    joined), and the four timeline sources. The thread and history are capped so that a
    ticket with a runaway email loop still renders; the page says when rows were left out."""
    messages = list(
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .order_by("-created_at", "-id")[: TICKET_PAGE_ROWS + 1]
    )
    delivery = dict(
        OutboundEmail.objects.filter(ticket=ticket, kind=EmailKind.TICKET_REPLY)
        .exclude(message_id="")
        .values_list("message_id", "status")
    )
    events = list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("-created_at", "-id")[: TICKET_PAGE_ROWS + 1]
    )
    thread = [
        {"message": message, "delivery": delivery.get(message.message_id, "")}
        for message in reversed(messages[:TICKET_PAGE_ROWS])
    ]
    return {
        "thread": thread,
        "thread_truncated": len(messages) > TICKET_PAGE_ROWS,
        "events": events[:TICKET_PAGE_ROWS],
        "events_truncated": len(events) > TICKET_PAGE_ROWS,
        "timeline": customer_timeline(
            ticket.customer_id, limit=timeline_limit, current_ticket_id=ticket.pk
        ),
    }
