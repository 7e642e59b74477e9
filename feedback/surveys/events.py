"""The webhook events answers emit, and their payload (the API's response fields)."""

from __future__ import annotations

from typing import Any

from customers.events import webhook_subject
from cxcrm.webhooks.event_types import RESPONSE_CREATED, RESPONSE_UPDATED
from cxcrm.webhooks.events import event_publish
from feedback.surveys.models import Response


def response_data(response: Response) -> dict[str, Any]:
    return {
        "id": response.pk,
        "survey": response.survey_id,
        "invitation": response.invitation_id,
        "customer": response.customer_id,
        "touchpoint": response.touchpoint_id,
        "kind": response.kind,
        "score": response.score,
        "category": response.category,
        "comment": response.comment,
        "answers": response.answers,
        "language": response.language,
        "channel": response.channel,
        "submitted_at": response.submitted_at,
        "updated_at": response.updated_at,
    }


def response_changed(response: Response) -> int:
    """response.created for a first answer, response.updated for a change (a change always
    pushes the previous version onto ``history``)."""
    name = RESPONSE_UPDATED if response.history else RESPONSE_CREATED
    return event_publish(
        name, response_data(response), subject=webhook_subject(response.customer_id)
    )
