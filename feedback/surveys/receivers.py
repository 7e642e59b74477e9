"""The surveys' receivers: translate other apps' and anymail's signals into survey and outbox
service calls, nothing more."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from django.conf import settings
from django.dispatch import receiver
from django.utils.translation import gettext as _

from cxcrm.models import WebhookEndpoint
from cxcrm.staff_prefs import recipients_by_locale, staff_locale
from cxcrm.webhooks.signals import endpoint_disabled
from feedback.surveys.models import EmailKind
from feedback.surveys.services.invitations import invitations_schedule_for_many
from feedback.surveys.services.outbox import outbound_email_queue
from feedback.surveys.services.tracking import DeliveryEvent, delivery_event_record
from touchpoints.models import Interaction
from touchpoints.services import NewInteraction
from touchpoints.signals import interactions_recorded


@receiver(interactions_recorded, sender=Interaction, dispatch_uid="surveys-schedule")
def schedule_invitations(
    sender: Any, interactions: list[NewInteraction], **kwargs: Any
) -> dict[int, int]:
    return invitations_schedule_for_many(interactions=interactions)


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


@receiver(endpoint_disabled, sender=WebhookEndpoint, dispatch_uid="cxcrm-endpoint-disabled")
def on_endpoint_disabled(
    sender: Any, endpoint: WebhookEndpoint, owner: str, reason: str, **kwargs: Any
) -> None:
    # The owner is often a staff member: the email is in their language (the reason is the
    # stored, English, disabled_reason).
    for locale, addresses in recipients_by_locale([owner]):
        with staff_locale(locale):
            subject = _("[%(brand)s] Webhook endpoint disabled: %(url)s") % {
                "brand": settings.CXCRM_BRAND_NAME,
                "url": endpoint.url,
            }
            text = _(
                "We stopped sending events to %(url)s because %(reason)s\n\n"
                "Fix the receiver, then turn the endpoint back on in the admin "
                "(Webhook endpoints) or through the API (PATCH active=true). "
                "Deliveries that failed can be sent again from the delivery log.\n"
            ) % {"url": endpoint.url, "reason": reason}
        for address in addresses:
            outbound_email_queue(
                to=address, subject=subject[:255], text=text, kind=EmailKind.SYSTEM
            )
