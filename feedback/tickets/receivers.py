"""The ticket loop's receivers: translate the surveys' signals into ticket work."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from cxcrm.tasking import enqueue_on_commit
from feedback.surveys.models import Response
from feedback.surveys.signals import response_changed
from feedback.tickets.tasks import ticket_for_response


@receiver(response_changed, sender=Response, dispatch_uid="tickets-answer-changed")
def on_response_changed(sender: Any, response: Response, **kwargs: Any) -> None:
    # After commit: the task reads the committed answer, and a rolled-back one opens nothing.
    enqueue_on_commit(ticket_for_response, response.pk)
