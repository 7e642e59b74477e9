"""Webhook endpoints through the API: a key manages the endpoints it registered (staff see
all), and reads their delivery log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import django_filters as filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.pagination import BigCursorPagination
from cxcrm.api.views import ApiViewSet, IdFilter, NulFreeCharField
from cxcrm.models import ApiKey, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from cxcrm.webhooks.docs import WEBHOOK_CALLBACKS
from cxcrm.webhooks.event_types import EVENTS
from cxcrm.webhooks.services import (
    WebhookUrlError,
    webhook_endpoint_create,
    webhook_endpoint_update,
)

# --- Selectors ----------------------------------------------------------------------------------


def endpoints_visible_to(principal: Any) -> QuerySet[WebhookEndpoint]:
    if principal is None:
        return WebhookEndpoint.objects.none()
    if isinstance(principal, ApiKey):
        return WebhookEndpoint.objects.filter(api_key=principal)
    return WebhookEndpoint.objects.all()


def deliveries_visible_to(principal: Any) -> QuerySet[WebhookDelivery]:
    if principal is None:
        return WebhookDelivery.objects.none()
    deliveries = WebhookDelivery.objects.defer("payload", "response_body")
    if isinstance(principal, ApiKey):
        return deliveries.filter(endpoint__api_key=principal)
    return deliveries


# --- Serializers --------------------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    owner_email = serializers.CharField(read_only=True)  # may be blank

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "owner_email",
            "failing_since",
            "last_success_at",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The secret is shown once, when the endpoint is made (``whsec_…``, Standard Webhooks)."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.MultipleChoiceField(choices=EVENTS, allow_empty=False)
    description = NulFreeCharField(max_length=200, required=False, allow_blank=True, default="")
    owner_email = serializers.EmailField(required=False, allow_blank=True, default="")


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.MultipleChoiceField(choices=EVENTS, allow_empty=False, required=False)
    description = NulFreeCharField(max_length=200, required=False, allow_blank=True)
    owner_email = serializers.EmailField(required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "message_id",
            "status",
            "attempts",
            "response_code",
            "duration_ms",
            "error",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointFilter(filters.FilterSet):
    active = filters.BooleanFilter(help_text="true: receiving; false: switched off or disabled.")

    class Meta:
        model = WebhookEndpoint
        fields: list[str] = []


class WebhookDeliveryFilter(filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id", help_text="The endpoint's id.")
    status = filters.MultipleChoiceFilter(
        choices=DeliveryStatus.choices, help_text="One or more statuses (repeat the parameter)."
    )
    event = filters.ChoiceFilter(choices=[(e, e) for e in EVENTS], help_text="Event type.")

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []


@contextmanager
def _url_errors() -> Iterator[None]:
    """A refused URL (README "Webhook URL rules") is a 400 on the url field, saying why."""
    try:
        yield
    except WebhookUrlError as exc:
        raise serializers.ValidationError({"url": [str(exc)]}) from None


# --- Views --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="The endpoints your key registered (staff see all), newest first, with "
        "their health: `failing_since`, `last_success_at`, `disabled_at`.",
    ),
    retrieve=extend_schema(
        summary="Read a webhook endpoint",
        description="One endpoint by id, with its health (the secret is never shown again).",
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="No more events are sent to it; its delivery log goes with it.",
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    serializer_class = WebhookEndpointSerializer
    required_permissions = {
        "list": "cxcrm.view_webhookendpoint",
        "retrieve": "cxcrm.view_webhookendpoint",
        "create": "cxcrm.add_webhookendpoint",
        "partial_update": "cxcrm.change_webhookendpoint",
        "destroy": "cxcrm.delete_webhookendpoint",
    }
    filterset_class = WebhookEndpointFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        return endpoints_visible_to(self.principal)

    @extend_schema(
        summary="Register a webhook endpoint",
        description="Events of the types in `events` are POSTed to `url`, signed the "
        "Standard Webhooks way with the `secret` of the answer (shown this once: keep it). "
        'The URL must be http(s) and reach a public address (README, "Webhook URL rules"); '
        "`owner_email` is told if the endpoint keeps failing and is disabled.\n\n"
        "Each event type's request is described in this operation's callbacks.",
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
        callbacks=WEBHOOK_CALLBACKS,
        examples=[
            OpenApiExample(
                "Tickets and answers",
                request_only=True,
                value={
                    "url": "https://hooks.example.com/cxcrm",
                    "events": ["ticket.created", "ticket.resolved", "response.created"],
                    "description": "CRM sync",
                    "owner_email": "integrations@example.com",
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = self.validated(WebhookEndpointInputSerializer)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        with _url_errors():
            endpoint = webhook_endpoint_create(
                url=data["url"],
                events=sorted(data["events"]),
                description=data["description"],
                owner_email=data["owner_email"],
                api_key=api_key,
            )
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change a webhook endpoint",
        description="Only the fields sent change. `active: true` switches a disabled endpoint "
        "back on; the secret stays the same.",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer},
        examples=[OpenApiExample("Switch it back on", request_only=True, value={"active": True})],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        endpoint = self.get_object()
        data = dict(self.validated(WebhookEndpointUpdateSerializer))
        if "events" in data:
            data["events"] = sorted(data["events"])
        with _url_errors():
            endpoint = webhook_endpoint_update(endpoint_id=endpoint.pk, **data)
        return Response(WebhookEndpointSerializer(endpoint).data)


@extend_schema_view(
    list=extend_schema(
        summary="List webhook deliveries",
        description="The delivery log of the endpoints you can see (`?endpoint=<id>` for "
        "one), newest first, a page at a time: each event's status, attempts, the receiver's "
        "HTTP status, duration and error, and when it is tried next.",
    ),
    retrieve=extend_schema(
        summary="Read a webhook delivery",
        description="One delivery by id: its attempts, the last answer and error.",
    ),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The delivery log of the endpoints you can see (``?endpoint=<id>`` for one), newest
    first: status, HTTP response code, duration."""

    serializer_class = WebhookDeliverySerializer
    required_permissions = {
        "list": "cxcrm.view_webhookdelivery",
        "retrieve": "cxcrm.view_webhookdelivery",
    }
    filterset_class = WebhookDeliveryFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> Any:
        return deliveries_visible_to(self.principal)
