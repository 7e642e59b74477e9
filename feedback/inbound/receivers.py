"""The inbound receiver: anymail's inbound event becomes a stored, matched email."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.dispatch import receiver

from feedback.inbound.models import InboundSource
from feedback.inbound.parsing import raw_from_anymail
from feedback.inbound.services import inbound_email_receive


@receiver(inbound, dispatch_uid="cxcrm-inbound-email")
def on_inbound_email(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    recipient = getattr(message, "envelope_recipient", None) if message is not None else None
    inbound_email_receive(
        raw=raw_from_anymail(message, event.esp_event),
        source=InboundSource.WEBHOOK,
        envelope_recipients=[str(recipient)] if recipient else [],
    )
