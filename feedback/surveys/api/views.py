"""``/api/v1/surveys/``, ``/invitations/`` and ``/responses/``: thin viewsets over the
selectors and the answer service."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.pagination import BigCursorPagination
from cxcrm.api.permissions import acting_user
from cxcrm.api.views import ApiViewSet
from feedback.surveys.api.filters import InvitationFilter, ResponseFilter, SurveyFilter
from feedback.surveys.api.selectors import (
    invitations_visible_to,
    responses_visible_to,
    surveys_visible_to,
)
from feedback.surveys.api.serializers import (
    InvitationSerializer,
    ResponseCreateSerializer,
    ResponseSerializer,
    SurveySerializer,
)
from feedback.surveys.services.responses import response_record_external

actor = acting_user


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = SurveySerializer
    required_permissions = {"list": "feedback.view_survey", "retrieve": "feedback.view_survey"}
    filterset_class = SurveyFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]

    def get_queryset(self) -> Any:
        return surveys_visible_to(self.principal)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = InvitationSerializer
    required_permissions = {
        "list": "feedback.view_invitation",
        "retrieve": "feedback.view_invitation",
    }
    filterset_class = InvitationFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["scheduled_for", "created_at", "updated_at", "id"]

    def get_queryset(self) -> Any:
        return invitations_visible_to(self.principal)


class ResponseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = ResponseSerializer
    required_permissions = {
        "list": "feedback.view_response",
        "retrieve": "feedback.view_response",
        "create": "feedback.add_response",
    }
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
