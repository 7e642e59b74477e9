"""``/api/v1/insights/analyze/`` (texts → language, topics, sentiment) and
``/api/v1/insights/topics/`` (the taxonomy): thin viewsets over the insights services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.permissions import ApiAccess
from cxcrm.api.views import ApiViewSet
from cxcrm.models import ApiKey, ApiScope
from feedback.insights import selectors, services
from feedback.insights.api.filters import TopicFilter
from feedback.insights.api.serializers import (
    AnalyzeResultSerializer,
    AnalyzeSerializer,
    TopicSerializer,
    TopicUpdateSerializer,
    TopicWriteSerializer,
)
from feedback.insights.tasks import enrich_soon


class ReadAccess(ApiAccess):
    """Analyzing reads (it stores nothing): a read key may POST it."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            return request.auth.has_scope(ApiScope.READ)
        return super().has_permission(request, view)


class InsightViewSet(ApiViewSet):
    """Comment intelligence on texts sent by the caller."""

    # OPTIONS (DRF's metadata) describes the action's input; reading it is enough.
    serializer_class = AnalyzeSerializer
    required_permissions = {
        "analyze": "feedback.view_commentinsight",
        "retrieve": "feedback.view_commentinsight",
    }
    permission_classes = [ReadAccess]

    @extend_schema(
        summary="Analyze texts",
        description="The language, 0-2 topics of the taxonomy (best first, with a confidence) "
        "and the sentiment (negative, neutral or positive, with a confidence) of each text, "
        "computed on this server as the product does for customers' comments. Nothing is "
        "stored. Up to 50 texts of at most 5,000 characters; a read key suffices.",
        request=AnalyzeSerializer,
        responses={200: AnalyzeResultSerializer},
        examples=[
            OpenApiExample(
                "Three comments",
                request_only=True,
                value={
                    "texts": [
                        "The parcel came two days late and the box was crushed.",
                        "Курьер был очень вежливый, спасибо!",
                        "Aplikacja wysypuje się przy płatności.",
                    ]
                },
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def analyze(self, request: Request) -> Response:
        texts = self.validated(AnalyzeSerializer)["texts"]
        setup = services.enrichment_setup()
        names = {spec.slug: spec.name for spec in setup.specs}
        results = setup.engine.enrich(texts, setup.specs, setup.corrections)
        return Response(
            {
                "model_version": setup.version,
                "results": [
                    {
                        "language": r.language,
                        "topics": [
                            {"slug": slug, "name": names.get(slug, slug), "confidence": c}
                            for slug, c in r.topics
                        ],
                        "sentiment": r.sentiment,
                        "sentiment_confidence": r.sentiment_confidence,
                    }
                    for r in results
                ],
            }
        )


@extend_schema_view(
    list=extend_schema(
        summary="List topics",
        description="The taxonomy comments are sorted into (0-2 topics each); inactive topics "
        "are kept for history and given to no new comment.",
    ),
    retrieve=extend_schema(summary="Read a topic", description="One topic by id."),
)
class TopicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = TopicSerializer
    required_permissions = {
        "list": "feedback.view_topic",
        "retrieve": "feedback.view_topic",
        # An upsert may add or change.
        "create": "feedback.change_topic",
        "partial_update": "feedback.change_topic",
        "destroy": "feedback.delete_topic",
    }
    filterset_class = TopicFilter
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self) -> Any:
        return selectors.topics_visible_to(self.principal)

    @extend_schema(
        summary="Create or update a topic (by slug)",
        description="Creates the topic with this `slug` (a new one needs a `name`; names are "
        "unique), or updates the fields sent of the one that exists. Every comment's topics "
        "are computed again with the new taxonomy, in the background.",
        examples=[
            OpenApiExample(
                "Gift wrapping",
                request_only=True,
                value={
                    "slug": "gift_wrapping",
                    "name": "Gift wrapping",
                    "description": "Gift wrap, gift notes, presentation of a present.",
                    "examples": ["No gift wrap option", "Подарочная упаковка была красивая"],
                },
            )
        ],
        request=TopicWriteSerializer,
        responses={
            200: OpenApiResponse(TopicSerializer, description="Updated"),
            201: OpenApiResponse(TopicSerializer, description="Created"),
        },
    )
    def create(self, request: Request) -> Response:
        data = dict(self.validated(TopicWriteSerializer))
        topic, created = services.topic_upsert(slug=data.pop("slug"), **data)
        enrich_soon()
        return Response(
            TopicSerializer(topic).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Change a topic",
        description="Only the fields sent change. `active: false` gives it to no new comment.",
        request=TopicUpdateSerializer,
        responses={200: TopicSerializer},
        examples=[OpenApiExample("Retire it", request_only=True, value={"active": False})],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.validated(TopicUpdateSerializer)
        topic = services.topic_update(topic_id=self.get_object().pk, **data)
        enrich_soon()
        return Response(TopicSerializer(topic).data)

    @extend_schema(
        summary="Delete a topic",
        description="Deletes the topic and its assignments to comments (to keep them in the "
        "figures, set `active: false` instead).",
        request=None,
        responses={204: None},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        services.topic_delete(topic_id=self.get_object().pk)
        enrich_soon()
        return Response(status=status.HTTP_204_NO_CONTENT)
