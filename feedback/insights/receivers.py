"""The parts below send a signal when a customer's words are written; these receivers file the
text in the writer's transaction (an upsert: two queries) and queue its enrichment for after
the commit. Nothing is computed here: the survey page's request pays for the upsert only."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from feedback.inbound.models import InboundEmail
from feedback.inbound.signals import inbound_email_read
from feedback.insights import services, sources
from feedback.insights.tasks import enrich_soon
from feedback.surveys.models import Response
from feedback.surveys.signals import response_changed
from feedback.tickets.models import TicketMessage
from feedback.tickets.signals import customer_message_added


def _file(item: sources.SourceText | None) -> None:
    if item is None:
        return
    if services.insights_file(items=[item]):
        enrich_soon()


@receiver(response_changed, sender=Response, dispatch_uid="insights-answer-changed")
def on_response_changed(sender: Any, response: Response, **kwargs: Any) -> None:
    if not response.comment.strip():
        # No words to file; one existed only if the comment was cleared (an edit).
        if response.history:
            services.insight_forget(source=sources.response_source(response), source_id=response.pk)
        return
    _file(sources.of_response(response))


@receiver(customer_message_added, sender=TicketMessage, dispatch_uid="insights-ticket-message")
def on_customer_message(sender: Any, message: TicketMessage, **kwargs: Any) -> None:
    _file(sources.of_message(message))


@receiver(inbound_email_read, sender=InboundEmail, dispatch_uid="insights-inbound-email")
def on_inbound_email(sender: Any, inbound_email: InboundEmail, **kwargs: Any) -> None:
    item = sources.of_inbound(inbound_email)
    if not item.text:
        # Recorded as an answer's comment or a ticket message (filed there), or no words.
        services.insight_forget(source=item.source, source_id=item.source_id)
        return
    _file(item)
