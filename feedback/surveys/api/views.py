"""``/api/v1/surveys/``, ``/invitations/`` and ``/responses/``: thin viewsets over the
selectors and the answer service."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.pagination import BigCursorPagination
from cxcrm.api.permissions import acting_user
from cxcrm.api.views import IN_USE, ApiViewSet
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
    SurveyUpdateSerializer,
    SurveyWriteSerializer,
)
from feedback.surveys.services.responses import response_record_external
from feedback.surveys.services.surveys import survey_delete, survey_update, survey_upsert

actor = acting_user


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Surveys: what is asked (kind, texts per language), after which interactions, when, and
    which answers open a ticket. Set up here or in the admin (the same rules apply)."""

    serializer_class = SurveySerializer
    required_permissions = {
        "list": "feedback.view_survey",
        "retrieve": "feedback.view_survey",
        # An upsert may add or change.
        "create": "feedback.change_survey",
        "partial_update": "feedback.change_survey",
        "destroy": "feedback.delete_survey",
    }
    filterset_class = SurveyFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]

    def get_queryset(self) -> Any:
        return surveys_visible_to(self.principal)

    def _answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        survey = surveys_visible_to(self.principal).get(pk=pk)
        return Response(SurveySerializer(survey).data, status=code)

    @extend_schema(
        request=SurveyWriteSerializer,
        responses={
            200: OpenApiResponse(SurveySerializer, description="Updated"),
            201: OpenApiResponse(SurveySerializer, description="Created"),
        },
    )
    def create(self, request: Request) -> Response:
        """Upsert by slug: creates the survey, or updates the fields sent."""
        data = dict(self.validated(SurveyWriteSerializer))
        survey, created = survey_upsert(slug=data.pop("slug"), **data)
        return self._answer(survey.pk, status.HTTP_201_CREATED if created else 200)

    @extend_schema(request=SurveyUpdateSerializer, responses={200: SurveySerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        survey = self.get_object()
        data = self.validated(SurveyUpdateSerializer)
        return self._answer(survey_update(survey_id=survey.pk, **data).pk)

    @extend_schema(request=None, responses={204: None, 409: IN_USE})
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a survey nobody was invited to yet; one with invitations or answers is kept
        (409): deactivate it instead."""
        survey_delete(survey_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
