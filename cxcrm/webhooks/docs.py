"""Webhook events in the OpenAPI schema: each event type is a callback of
``POST /api/v1/webhooks/`` (OpenAPI 3.0's way to describe requests the API makes to a URL the
client gave), with its payload's schema, the signature headers and the retry schedule.

The payloads belong to the apps that publish them: each calls ``webhook_event_documented`` next
to the function that builds the payload, and the schema reads the list when it is generated."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiCallback,
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers

from cxcrm.api.texts import webhook_delivery_text
from cxcrm.webhooks.event_types import EVENTS

# Read by drf-spectacular when it builds the schema, after every app has added its events.
WEBHOOK_CALLBACKS: list[OpenApiCallback] = []


def _envelope(name: str, events: list[str], data: type[serializers.Serializer]) -> type:
    fields = {
        "type": serializers.ChoiceField(choices=[(e, e) for e in events], help_text="Event type."),
        "timestamp": serializers.DateTimeField(help_text="When the event happened (ISO 8601)."),
        "data": data(help_text="The object as it is after the change."),
    }
    return type(f"{name}Serializer", (serializers.Serializer,), fields)


def webhook_event_documented(
    *,
    name: str,
    events: dict[str, str],
    data: type[serializers.Serializer],
    example: dict[str, Any],
) -> None:
    """Document event types sharing one payload: ``events`` maps each type to when it is
    sent; the body's schema is the component ``name`` ({type, timestamp, data})."""
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise ValueError(f"Unknown webhook events: {sorted(unknown)}")
    envelope = _envelope(name, list(events), data)
    for event, when in events.items():
        body = {"type": event, "timestamp": "2026-12-01T09:30:00.000000+00:00", "data": example}
        WEBHOOK_CALLBACKS.append(
            OpenApiCallback(
                name=event,
                path="{$request.body#/url}",
                decorator=extend_schema(
                    summary=f"{event}: {when}",
                    description=webhook_delivery_text(settings.CXCRM_WEBHOOK_RETRY_SCHEDULE),
                    request=envelope,
                    examples=[OpenApiExample(event, value=body)],
                    responses={
                        200: OpenApiResponse(
                            description="Any 2xx: delivered. Anything else is retried."
                        )
                    },
                ),
            )
        )
