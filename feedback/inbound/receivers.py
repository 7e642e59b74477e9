"""The inbound receiver: anymail's inbound event becomes a stored row, read by a task after
the row commits, so the ESP gets its answer at once whatever the message costs to read."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.dispatch import receiver

from cxcrm.tasking import enqueue_on_commit
from feedback.inbound.models import InboundSource, InboundStatus
from feedback.inbound.parsing import raw_from_anymail
from feedback.inbound.services import inbound_email_store
from feedback.inbound.tasks import process_inbound_email


@receiver(inbound, dispatch_uid="cxcrm-inbound-email")
def on_inbound_email(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    recipient = getattr(message, "envelope_recipient", None) if message is not None else None
    row = inbound_email_store(
        raw=raw_from_anymail(message, event.esp_event),
        source=InboundSource.WEBHOOK,
        envelope_recipients=[str(recipient)] if recipient else [],
    )
    if row.status == InboundStatus.RECEIVED:
        enqueue_on_commit(process_inbound_email, row.pk)
