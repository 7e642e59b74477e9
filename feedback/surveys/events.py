"""The webhook events answers emit, and their payload (the API's response fields)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from customers.events import webhook_subject
from cxcrm.webhooks.docs import webhook_event_documented
from cxcrm.webhooks.event_types import RESPONSE_CREATED, RESPONSE_UPDATED
from cxcrm.webhooks.events import event_publish
from feedback.surveys.models import Response, ResponseChannel
from feedback.surveys.scoring import Category, SurveyKind


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


class ResponseEventDataSerializer(serializers.Serializer):
    # The schema of response_data's dict (tests/unit/test_api_docs.py checks a real one against it).
    id = serializers.IntegerField()
    survey = serializers.IntegerField()
    invitation = serializers.IntegerField(
        allow_null=True, help_text="None for an answer posted to the API."
    )
    customer = serializers.IntegerField(help_text="The customer's id.")
    touchpoint = serializers.IntegerField(allow_null=True)
    kind = serializers.ChoiceField(choices=SurveyKind.choices)
    score = serializers.IntegerField()
    category = serializers.ChoiceField(choices=Category.choices)
    comment = serializers.CharField(allow_blank=True)
    answers = serializers.DictField(help_text="Answers to the follow-up questions.")
    language = serializers.CharField(allow_blank=True)
    channel = serializers.ChoiceField(choices=ResponseChannel.choices)
    submitted_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


webhook_event_documented(
    name="ResponseEvent",
    events={
        RESPONSE_CREATED: "a customer answered a survey (by email, on the page, by a reply or "
        "through the API).",
        RESPONSE_UPDATED: "a customer changed an answer or added a comment.",
    },
    data=ResponseEventDataSerializer,
    example={
        "id": 1877,
        "survey": 1,
        "invitation": 5120,
        "customer": 42,
        "touchpoint": 7,
        "kind": "nps",
        "score": 3,
        "category": "detractor",
        "comment": "The courier left the parcel in the rain.",
        "answers": {},
        "language": "pl",
        "channel": "email_click",
        "submitted_at": "2026-12-01T09:29:58+00:00",
        "updated_at": "2026-12-01T09:29:58+00:00",
    },
)
