"""``/api/v1/surveys/``, ``/invitations/`` and ``/responses/``: thin viewsets over the
selectors and the answer service."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
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


@extend_schema_view(
    list=extend_schema(
        summary="List surveys",
        description="Every survey with its trigger (touchpoints or a stage), timing (delay, "
        "reminder, expiry), sampling, contact frequency, texts per language and "
        "close-the-loop rule.",
    ),
    retrieve=extend_schema(
        summary="Read a survey",
        description="One survey by id: its questions per language, trigger and rules.",
    ),
)
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
        summary="Create or update a survey (by slug)",
        description="Creates the survey with this `slug` (a new one needs `name`, `kind` and "
        "`texts`), or updates the fields sent of the one that exists. Texts, follow-ups and "
        "ticket categories are checked by the survey's own rules, as in the admin; errors "
        'name the language and key (`texts: ["pl.subject: required …"]`).',
        examples=[
            OpenApiExample(
                "NPS after a web checkout",
                request_only=True,
                value={
                    "slug": "nps-web-checkout",
                    "name": "NPS after web checkout",
                    "kind": "nps",
                    "trigger_touchpoints": ["checkout"],
                    "delay_seconds": 259200,
                    "reminder_after_days": 3,
                    "expires_after_days": 14,
                    "sample_percent": 100,
                    "default_language": "en",
                    "texts": {
                        "en": {
                            "subject": "How did we do?",
                            "question": "How likely are you to recommend us to a friend?",
                            "followup": {"detractor": "What went wrong?"},
                        }
                    },
                    "loop_enabled": True,
                    "sla_hours": 24,
                },
            )
        ],
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

    @extend_schema(
        summary="Change a survey",
        description="Only the fields sent change (`trigger_touchpoints` and `texts` are "
        "replaced as a whole). `active: false` stops it sending.",
        request=SurveyUpdateSerializer,
        responses={200: SurveySerializer},
        examples=[
            OpenApiExample("Ask half the buyers", request_only=True, value={"sample_percent": 50})
        ],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        survey = self.get_object()
        data = self.validated(SurveyUpdateSerializer)
        return self._answer(survey_update(survey_id=survey.pk, **data).pk)

    @extend_schema(
        summary="Delete a survey",
        description="Only one nobody was invited to yet; one with invitations or answers is "
        "kept (409): set `active: false` instead.",
        request=None,
        responses={204: None, 409: IN_USE},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a survey nobody was invited to yet; one with invitations or answers is kept
        (409): deactivate it instead."""
        survey_delete(survey_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List invitations",
        description="The surveys scheduled and sent, a page at a time (follow `next`): to "
        "whom, after which interaction, in which state. Filter by state to see what is "
        "waiting, failed or suppressed.",
    ),
    retrieve=extend_schema(
        summary="Read an invitation",
        description="One invitation by id: its state, when it is or was sent, reminded and "
        "when it expires.",
    ),
)
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


@extend_schema_view(
    list=extend_schema(
        summary="List answers",
        description="Answers, a page at a time (follow `next`), with their score, category, "
        "comment and the ticket they opened. `?category=detractor&has_comment=true` gives the "
        "unhappy answers that say why; `updated_since` catches changed answers too.",
    ),
    retrieve=extend_schema(
        summary="Read an answer",
        description="One answer by id (`ticket` is the ticket it opened, if any).",
    ),
)
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

    @extend_schema(
        summary="Record an answer captured elsewhere",
        description="An answer from outside the emailed survey (a store kiosk, a review "
        "site, a call): it needs no invitation. It is scored and categorised by the survey's "
        "kind, and the loop runs as for an emailed answer: a ticket when the survey's rule "
        "says so, and `response.created` webhooks.",
        request=ResponseCreateSerializer,
        responses={201: ResponseSerializer},
        examples=[
            OpenApiExample(
                "A kiosk answer",
                request_only=True,
                value={
                    "survey": 1,
                    "customer_external_id": "demo-cust-0002",
                    "touchpoint": "store-checkout",
                    "score": 9,
                    "submitted_at": "2026-12-01T16:20:00Z",
                    "comment": "Quick and friendly at the till.",
                    "language": "en",
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """Record an answer captured elsewhere. It is scored, and the loop runs as for an
        emailed answer: a ticket after commit when the survey's rule says so, and webhooks."""
        data = self.validated(ResponseCreateSerializer)
        response = response_record_external(**data)
        return Response(ResponseSerializer(response).data, status=status.HTTP_201_CREATED)
