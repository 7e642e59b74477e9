from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.pagination import BigCursorPagination, SmallPagination
from cxcrm.api.permissions import acting_user
from cxcrm.api.views import ApiViewSet
from cxcrm.models import ApiKey
from feedback.api.filters import (
    InvitationFilter,
    ResponseFilter,
    RootCauseFilter,
    SurveyFilter,
    TicketFilter,
)
from feedback.api.selectors import (
    invitations_visible_to,
    responses_visible_to,
    root_causes_visible_to,
    surveys_visible_to,
    ticket_messages,
    tickets_visible_to,
)
from feedback.api.serializers import (
    InvitationSerializer,
    ResponseCreateSerializer,
    ResponseSerializer,
    RootCauseSerializer,
    SurveySerializer,
    TicketAssignSerializer,
    TicketCreateSerializer,
    TicketMessageCreateSerializer,
    TicketMessageSerializer,
    TicketReopenSerializer,
    TicketResolveSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)
from feedback.surveys.services.responses import response_record_external
from feedback.tickets import services as loop
from feedback.tickets.models import TicketSource

actor = acting_user


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]

    def get_queryset(self) -> Any:
        return surveys_visible_to(self.principal)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["scheduled_for", "created_at", "updated_at", "id"]

    def get_queryset(self) -> Any:
        return invitations_visible_to(self.principal)


class ResponseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = ResponseSerializer
    filterset_class = ResponseFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["submitted_at", "updated_at", "score", "id"]

    def get_queryset(self) -> Any:
        return responses_visible_to(self.principal)

    @extend_schema(request=ResponseCreateSerializer, responses={201: ResponseSerializer})
    def create(self, request: Request) -> Response:
        """Record an answer captured elsewhere. It is scored, and the loop runs as for an
        emailed answer: a ticket after commit when the survey's rule says so, and webhooks."""
        data = self.validated(ResponseCreateSerializer)
        response = response_record_external(**data)
        return Response(ResponseSerializer(response).data, status=status.HTTP_201_CREATED)


class RootCauseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The root causes a ticket can be resolved with."""

    serializer_class = RootCauseSerializer
    filterset_class = RootCauseFilter
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self) -> Any:
        return root_causes_visible_to(self.principal)


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["priority", "due_at", "created_at", "updated_at", "id"]

    def get_queryset(self) -> Any:
        return tickets_visible_to(self.principal)

    def _fresh(self, ticket_id: int) -> dict[str, Any]:
        return TicketSerializer(self.get_queryset().get(pk=ticket_id)).data

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
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

    @extend_schema(request=TicketUpdateSerializer, responses={200: TicketSerializer})
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

    @extend_schema(request=TicketAssignSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self.validated(TicketAssignSerializer)
        loop.ticket_assign(ticket_id=ticket.pk, assignee=data["assignee"], actor=actor(request))
        return Response(self._fresh(ticket.pk))

    @extend_schema(request=TicketResolveSerializer, responses={200: TicketSerializer})
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

    @extend_schema(request=TicketReopenSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self.validated(TicketReopenSerializer)
        loop.ticket_reopen(ticket_id=ticket.pk, note=data["note"], actor=actor(request))
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        methods=["GET"], request=None, responses={200: TicketMessageSerializer(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        request=TicketMessageCreateSerializer,
        responses={201: TicketMessageSerializer},
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
