"""Comment insights with the real servers: an answer's comment recorded by the product is
filed in its transaction and enriched by a real Celery worker after commit, on PostgreSQL."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.utils import timezone

from feedback.insights.models import CommentInsight, Topic
from feedback.insights.services import topic_upsert
from feedback.surveys.models import InvitationState
from feedback.surveys.services.responses import response_record
from tests.factories import InvitationFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _default_topics() -> None:
    # A transactional test database was flushed by earlier tests: seed the taxonomy again.
    migration = importlib.import_module("feedback.migrations.0025_insights_core")
    for slug, name, description, examples in migration.DEFAULT_TOPICS:
        if not Topic.objects.filter(slug=slug).exists():
            topic_upsert(slug=slug, name=name, description=description, examples=examples)


def test_an_answer_comment_is_enriched_by_a_worker_after_commit(celery_worker: Any) -> None:
    _default_topics()
    worker = celery_worker("insights")
    invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
    response_record(invitation_id=invitation.pk, score=1)
    response = response_record(
        invitation_id=invitation.pk,
        comment="Paczka przyszła tydzień po terminie, a kurier nawet nie zadzwonił.",
    ).response
    row = CommentInsight.objects.get(source="answer", source_id=response.pk)
    # Generous: the worker loads the model once (seconds on a busy machine), then embeds.
    wait_for(
        lambda: CommentInsight.objects.filter(pk=row.pk, enriched_at__isnull=False).exists(),
        timeout=180,
    )
    row.refresh_from_db()
    assert row.language == "pl", worker.output()
    assert row.sentiment == "negative"
    assert len(bytes(row.embedding)) == 768
    topics = set(row.topics.filter(removed=False).values_list("topic__slug", flat=True))
    assert "delivery" in topics, worker.output()
