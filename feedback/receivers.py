"""Signal receivers: translate anymail's events into service calls, nothing more."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.dispatch import receiver

from feedback.inbound import raw_from_anymail
from feedback.models import InboundSource
from feedback.services.inbound import inbound_email_receive
from feedback.services.tracking import DeliveryEvent, delivery_event_record


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
