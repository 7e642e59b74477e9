"""``/api/v1/tickets/`` (list, create, update, assign, resolve, reopen, messages) and
``/root-causes/``: thin viewsets that call the ticket services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.pagination import BigCursorPagination, SmallPagination
from cxcrm.api.permissions import acting_user as actor
from cxcrm.api.views import IN_USE, ApiViewSet
from cxcrm.models import ApiKey
from feedback.tickets import services as loop
from feedback.tickets.api.filters import RootCauseFilter, TicketFilter
from feedback.tickets.api.selectors import (
    root_causes_visible_to,
    ticket_messages,
    tickets_visible_to,
)
from feedback.tickets.api.serializers import (
    RootCauseSerializer,
    RootCauseUpdateSerializer,
    RootCauseWriteSerializer,
    TicketAssignSerializer,
    TicketCreateSerializer,
    TicketMessageCreateSerializer,
    TicketMessageSerializer,
    TicketReopenSerializer,
    TicketResolveSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)
from feedback.tickets.models import TicketSource
from feedback.tickets.root_causes import (
    root_cause_delete,
    root_cause_update,
    root_cause_upsert,
)


@extend_schema_view(
    list=extend_schema(
        summary="List root causes",
        description="The reasons a ticket can be resolved with (`root_cause` of "
        "`POST /tickets/{id}/resolve/`); only active ones can be chosen.",
    ),
    retrieve=extend_schema(summary="Read a root cause", description="One root cause by id."),
)
class RootCauseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The root causes a ticket can be resolved with (the active ones)."""

    serializer_class = RootCauseSerializer
    required_permissions = {
        "list": "feedback.view_rootcause",
        "retrieve": "feedback.view_rootcause",
        # An upsert may add or change.
        "create": "feedback.change_rootcause",
        "partial_update": "feedback.change_rootcause",
        "destroy": "feedback.delete_rootcause",
    }
    filterset_class = RootCauseFilter
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self) -> Any:
        return root_causes_visible_to(self.principal)

    @extend_schema(
        summary="Create or update a root cause (by slug)",
        description="Creates the root cause with this `slug` (a new one needs a `name`; "
        "names are unique), or updates the fields sent of the one that exists.",
        examples=[
            OpenApiExample(
                "Late delivery",
                request_only=True,
                value={
                    "slug": "late-delivery-carrier",
                    "name": "Late delivery (carrier)",
                    "description": "The carrier delivered after the promised date.",
                },
            )
        ],
        request=RootCauseWriteSerializer,
        responses={
            200: OpenApiResponse(RootCauseSerializer, description="Updated"),
            201: OpenApiResponse(RootCauseSerializer, description="Created"),
        },
    )
    def create(self, request: Request) -> Response:
        """Upsert by slug: creates the root cause, or updates the fields sent."""
        data = dict(self.validated(RootCauseWriteSerializer))
        root_cause, created = root_cause_upsert(slug=data.pop("slug"), **data)
        return Response(
            RootCauseSerializer(root_cause).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Change a root cause",
        description="Only the fields sent change. `active: false` keeps it off new resolutions.",
        request=RootCauseUpdateSerializer,
        responses={200: RootCauseSerializer},
        examples=[OpenApiExample("Retire it", request_only=True, value={"active": False})],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.validated(RootCauseUpdateSerializer)
        root_cause = root_cause_update(root_cause_id=self.get_object().pk, **data)
        return Response(RootCauseSerializer(root_cause).data)

    @extend_schema(
        summary="Delete a root cause",
        description="Only one no ticket names; one in use is kept (409): set `active: false`.",
        request=None,
        responses={204: None, 409: IN_USE},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a root cause no ticket names; one in use is kept (409): deactivate it."""
        root_cause_delete(root_cause_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List tickets",
        description="Tickets, a page at a time (follow `next`). `?open=true&overdue=true` "
        "gives those past their SLA; `ordering=-priority,due_at` the triage order.",
    ),
    retrieve=extend_schema(
        summary="Read a ticket",
        description="One ticket by id: status, priority, assignee, SLA deadline (`due_at`), "
        "first contact, resolution. Its messages are at `/tickets/{id}/messages/`.",
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = TicketSerializer
    required_permissions = {
        "list": "feedback.view_ticket",
        "retrieve": "feedback.view_ticket",
        "create": "feedback.add_ticket",
        "partial_update": "feedback.change_ticket",
        "assign": "feedback.change_ticket",
        "resolve": "feedback.change_ticket",
        "reopen": "feedback.change_ticket",
        "messages GET": "feedback.view_ticketmessage",
        "messages POST": "feedback.add_ticketmessage",
    }
    filterset_class = TicketFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["priority", "due_at", "created_at", "updated_at", "id"]

    def get_queryset(self) -> Any:
        return tickets_visible_to(self.principal)

    def _fresh(self, ticket_id: int) -> dict[str, Any]:
        return TicketSerializer(self.get_queryset().get(pk=ticket_id)).data

    @extend_schema(
        summary="Open a ticket",
        description="A ticket from your system (a complaint by phone, a chat), not from a "
        "survey answer: those open by themselves. It is due after `sla_hours` (48 by "
        "default), assigned to `assignee` or by the usual rules, and `body` is its first "
        "message (from the customer).",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
        examples=[
            OpenApiExample(
                "A complaint by phone",
                request_only=True,
                value={
                    "customer_external_id": "demo-cust-0003",
                    "subject": "Parcel arrived damaged",
                    "touchpoint": "support-call",
                    "priority": 3,
                    "body": "The glass vase was broken in the box; the customer wants a refund.",
                    "sla_hours": 24,
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """Open a ticket from your system (not from a survey answer)."""
        data = dict(self.validated(TicketCreateSerializer))
        ticket = loop.ticket_create(
            customer=data["customer"],
            subject=data["subject"],
            touchpoint=data.get("touchpoint"),
            priority=int(data["priority"]),
            assignee=data.get("assignee"),
            body=data.get("body", ""),
            sla_hours=data.get("sla_hours", 48),
            source=TicketSource.API if isinstance(request.auth, ApiKey) else TicketSource.STAFF,
            actor=actor(request),
        )
        return Response(self._fresh(ticket.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a ticket's status, priority or assignee",
        description="Only the fields sent change; each change is logged. Status may go to "
        "new, open, pending or closed; resolve with `POST /tickets/{id}/resolve/` (it needs "
        "a root cause). `assignee` is a staff username, or null to unassign.",
        request=TicketUpdateSerializer,
        responses={200: TicketSerializer},
        examples=[
            OpenApiExample(
                "Waiting for the customer",
                request_only=True,
                value={"status": "pending", "priority": 2},
            )
        ],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change status (not to resolved: use the resolve action), priority or assignee."""
        ticket = self.get_object()
        data = self.validated(TicketUpdateSerializer)
        who = actor(request)
        if "assignee" in data:
            loop.ticket_assign(ticket_id=ticket.pk, assignee=data["assignee"], actor=who)
        if "priority" in data:
            loop.ticket_set_priority(ticket_id=ticket.pk, priority=int(data["priority"]), actor=who)
        if "status" in data:
            loop.ticket_set_status(ticket_id=ticket.pk, status=data["status"], actor=who)
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        summary="Assign a ticket",
        description="To a staff member by username (they are alerted), or null to unassign.",
        request=TicketAssignSerializer,
        responses={200: TicketSerializer},
        examples=[OpenApiExample("To Bob", request_only=True, value={"assignee": "bob"})],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self.validated(TicketAssignSerializer)
        loop.ticket_assign(ticket_id=ticket.pk, assignee=data["assignee"], actor=actor(request))
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        summary="Resolve a ticket",
        description="With a root cause (an active one's id, see `/root-causes/`) and what was "
        "done. `send_followup: true` sends the customer a one-question survey later "
        "(CXCRM_FOLLOWUP_DELAY_HOURS) to measure whether they were won back (`recovered`).",
        request=TicketResolveSerializer,
        responses={200: TicketSerializer},
        examples=[
            OpenApiExample(
                "Refunded",
                request_only=True,
                value={
                    "root_cause": 1,
                    "resolution": "Refunded the delivery fee and apologised by phone.",
                    "send_followup": True,
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self.validated(TicketResolveSerializer)
        loop.ticket_resolve(
            ticket_id=ticket.pk,
            root_cause=data["root_cause"],
            resolution=data.get("resolution", ""),
            send_followup=data["send_followup"],
            actor=actor(request),
        )
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        summary="Reopen a ticket",
        description="A resolved or closed ticket is worked again (a customer's email reply "
        "reopens it by itself). `note` says why, as an internal note.",
        request=TicketReopenSerializer,
        responses={200: TicketSerializer},
        examples=[
            OpenApiExample(
                "The refund did not arrive",
                request_only=True,
                value={"note": "Customer called: the refund has not arrived."},
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self.validated(TicketReopenSerializer)
        loop.ticket_reopen(ticket_id=ticket.pk, note=data["note"], actor=actor(request))
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        methods=["GET"],
        summary="Read a ticket's conversation",
        description="Its messages, oldest first: the customer's (inbound), the replies "
        "emailed to them (outbound) and internal notes.",
        request=None,
        responses={200: TicketMessageSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Reply to the customer, or add a note",
        description="`kind: reply` emails `body` to the customer in the ticket's thread (a "
        "reply is signed by a person: use a key made by a staff member, or a staff session); "
        "its first reply stops the SLA clock once the mail server accepts it. `kind: note` is "
        "internal.",
        request=TicketMessageCreateSerializer,
        responses={201: TicketMessageSerializer},
        examples=[
            OpenApiExample(
                "An internal note",
                request_only=True,
                value={"kind": "note", "body": "Carrier confirms the depot delay."},
            ),
            OpenApiExample(
                "A reply (emailed)",
                request_only=True,
                value={
                    "kind": "reply",
                    "body": "We are sorry about the delay: the delivery fee is refunded.",
                },
            ),
        ],
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=SmallPagination,
        filterset_class=None,
        filter_backends=[],
    )
    def messages(self, request: Request, pk: str) -> Response:
        """The conversation, oldest first; POST a reply (emailed) or an internal note."""
        ticket = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(ticket_messages(ticket))
            return self.get_paginated_response(TicketMessageSerializer(page, many=True).data)
        data = self.validated(TicketMessageCreateSerializer)
        if data["kind"] == "reply" and actor(request) is None:
            raise ValidationError(
                {"kind": "Replies are signed by a person: use a key made by a staff member."}
            )
        if data["kind"] == "reply":
            message = loop.ticket_reply(
                ticket_id=ticket.pk, body=data["body"], actor=actor(request)
            )
        else:
            message = loop.ticket_note(ticket_id=ticket.pk, body=data["body"], actor=actor(request))
        return Response(TicketMessageSerializer(message).data, status=status.HTTP_201_CREATED)
