"""Signal receivers: translate anymail's and the webhook platform's events into service calls,
nothing more."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.conf import settings
from django.dispatch import receiver

from cxcrm.models import WebhookEndpoint
from cxcrm.webhooks.signals import endpoint_disabled
from feedback.inbound.models import InboundSource
from feedback.inbound.parsing import raw_from_anymail
from feedback.services.inbound import inbound_email_receive
from feedback.services.outbox import outbound_email_queue
from feedback.services.tracking import DeliveryEvent, delivery_event_record
from feedback.surveys.models import EmailKind


@receiver(tracking, dispatch_uid="cxcrm-delivery-events")
def on_tracking_event(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    delivery_event_record(
        event=DeliveryEvent(
            event_type=str(event.event_type or ""),
            recipient=str(event.recipient or ""),
            message_id=str(event.message_id or ""),
            reject_reason=str(event.reject_reason or ""),
            mta_response=str(event.mta_response or ""),
            soft=esp_event.get("Type") == "SoftBounce",
        )
    )


@receiver(inbound, dispatch_uid="cxcrm-inbound-email")
def on_inbound_email(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    recipient = getattr(message, "envelope_recipient", None) if message is not None else None
    inbound_email_receive(
        raw=raw_from_anymail(message, event.esp_event),
        source=InboundSource.WEBHOOK,
        envelope_recipients=[str(recipient)] if recipient else [],
    )


@receiver(endpoint_disabled, sender=WebhookEndpoint, dispatch_uid="cxcrm-endpoint-disabled")
def on_endpoint_disabled(
    sender: Any, endpoint: WebhookEndpoint, owner: str, reason: str, **kwargs: Any
) -> None:
    outbound_email_queue(
        to=owner,
        subject=f"[{settings.CXCRM_BRAND_NAME}] Webhook endpoint disabled: {endpoint.url}"[:255],
        text=(
            f"We stopped sending events to {endpoint.url} because {reason}\n\n"
            "Fix the receiver, then turn the endpoint back on in the admin "
            "(Webhook endpoints) or through the API (PATCH active=true). "
            "Deliveries that failed can be sent again from the delivery log.\n"
        ),
        kind=EmailKind.SYSTEM,
    )
