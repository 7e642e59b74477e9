"""Comment insights' pipeline: every source files its text in the writer's transaction, the
enrichment runs after commit (eager Celery here, the real engine on a few texts), edits and
taxonomy changes re-enrich, corrections are kept, the backfill resumes, erasure removes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.privacy import customer_erase
from feedback.inbound.models import InboundEmail, InboundStatus
from feedback.inbound.signals import inbound_email_read
from feedback.insights import engine as engine_module
from feedback.insights import selectors, services, sources
from feedback.insights.models import CommentInsight, EngineState, Topic, TopicAssignment
from feedback.insights.tasks import enrich_pending
from feedback.surveys.models import InvitationPurpose, InvitationState
from feedback.surveys.services.responses import response_record, response_record_external
from feedback.tickets.services import ticket_create, ticket_message_receive
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LATE = "The parcel arrived a week late and the courier never called."


def _open_invitation(**kwargs: Any) -> Any:
    return InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now(), **kwargs)


def _row(source: str, source_id: int) -> CommentInsight:
    return CommentInsight.objects.get(source=source, source_id=source_id)


def _topics(row: CommentInsight) -> set[str]:
    return set(
        TopicAssignment.objects.filter(insight=row, removed=False).values_list(
            "topic__slug", flat=True
        )
    )


def test_an_answer_comment_is_filed_in_the_writers_transaction_and_enriched_after_commit(
    celery_inline: Any,
) -> None:
    invitation = _open_invitation()
    with celery_inline():
        response_record(invitation_id=invitation.pk, score=2)
        result = response_record(invitation_id=invitation.pk, comment=LATE)
        # Filed with the answer, enriched only once it commits.
        row = _row("answer", result.response.pk)
        assert row.enriched_at is None and row.text == LATE
    row.refresh_from_db()
    assert row.enriched_at is not None
    assert row.language == "en"
    assert row.sentiment == "negative"
    assert len(bytes(row.embedding)) == 768
    assert "delivery" in _topics(row)
    assert row.customer_id == invitation.customer_id
    assert row.touchpoint_id == result.response.touchpoint_id


def test_a_score_without_a_comment_files_nothing_and_costs_no_query() -> None:
    invitation = _open_invitation()
    response = ResponseFactory.build(invitation=invitation, comment="")
    from feedback.insights.receivers import on_response_changed

    with CaptureQueriesContext(connection) as ctx:
        on_response_changed(sender=None, response=response)
    assert len(ctx) == 0
    assert not CommentInsight.objects.exists()


def test_an_edited_comment_is_enriched_again_and_a_cleared_one_forgotten(
    celery_inline: Any,
) -> None:
    invitation = _open_invitation()
    with celery_inline():
        response = response_record(invitation_id=invitation.pk, score=9, comment="ok").response
    first = _row("answer", response.pk)
    assert first.enriched_at is not None
    with celery_inline():
        response_record(invitation_id=invitation.pk, comment="Спасибо, всё пришло вовремя!")
    row = _row("answer", response.pk)
    assert row.pk == first.pk and row.language == "ru" and row.enriched_at is not None
    with celery_inline():
        response_record(invitation_id=invitation.pk, comment="")
    assert not CommentInsight.objects.filter(pk=first.pk).exists()


def test_follow_up_and_external_answers_are_filed_as_their_own_sources() -> None:
    ticket = TicketFactory()
    follow_up = _open_invitation(purpose=InvitationPurpose.FOLLOWUP, ticket=ticket)
    answer = response_record(invitation_id=follow_up.pk, score=8, comment="Fixed, thanks").response
    assert _row("follow_up", answer.pk).text == "Fixed, thanks"
    external = response_record_external(
        survey=SurveyFactory(),
        customer=CustomerFactory(),
        touchpoint=TouchpointFactory(),
        score=3,
        submitted_at=timezone.now(),
        comment="Kiosk: the queue was endless",
    )
    assert _row("external", external.pk).text == "Kiosk: the queue was endless"


def test_a_customers_ticket_message_is_filed_but_not_the_copy_of_the_answer() -> None:
    ticket = ticket_create(customer=CustomerFactory(), subject="Where is it?", body="Still late")
    first = ticket.messages.get()
    assert _row("ticket_message", first.pk).ticket_id == ticket.pk
    reply = ticket_message_receive(ticket_id=ticket.pk, body="Any news?")
    assert _row("ticket_message", reply.pk).text == "Any news?"
    answer = ResponseFactory(score=1, comment="Broken on arrival")
    copied = TicketFactory(response=answer, customer=answer.customer)
    copy = ticket_message_receive(ticket_id=copied.pk, body="Broken on arrival")
    # The same words as the answer it came from are counted once, as the answer.
    assert not CommentInsight.objects.filter(source="ticket_message", source_id=copy.pk)


def test_an_unmatched_email_is_filed_until_it_is_put_on_a_ticket() -> None:
    row = InboundEmail.objects.create(
        source="webhook", raw=b"x", status=InboundStatus.UNMATCHED, text="Where is my refund?"
    )
    inbound_email_read.send(sender=InboundEmail, inbound_email=row)
    assert _row("inbound", row.pk).text == "Where is my refund?"
    row.status, row.ticket = InboundStatus.MATCHED_TICKET, TicketFactory()
    inbound_email_read.send(sender=InboundEmail, inbound_email=row)
    assert not CommentInsight.objects.filter(source="inbound").exists()


def test_a_taxonomy_edit_reassigns_topics_without_embedding_again(
    celery_inline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    invitation = _open_invitation()
    with celery_inline():
        response = response_record(
            invitation_id=invitation.pk, score=3, comment="Nobody wrapped my gift"
        ).response
    row = _row("answer", response.pk)
    version = row.model_version
    assert version.startswith(engine_module.MODEL_VERSION)
    embedded: list[int] = []
    engine = engine_module.get_engine()
    real_embed = engine.embed
    monkeypatch.setattr(
        engine, "embed", lambda texts: embedded.append(len(texts)) or real_embed(texts)
    )

    services.topic_upsert(
        slug="gift_wrap",
        name="Gift wrapping",
        description="Gift wrap, gift notes, presents",
        examples=["Nobody wrapped my gift", "Подарочная упаковка"],
    )
    setup = services.enrichment_setup()
    assert setup.version != version
    assert selectors.insights_pending_ids(version=setup.version, limit=10) == [row.pk]
    assert enrich_pending() == 1
    row.refresh_from_db()
    assert row.model_version == setup.version
    assert embedded == []  # topics from the stored embedding
    assert "gift_wrap" in _topics(row)


def test_a_correction_is_kept_through_re_enrichment_and_trains(celery_inline: Any) -> None:
    invitation = _open_invitation()
    with celery_inline():
        response = response_record(invitation_id=invitation.pk, score=1, comment=LATE).response
    row = _row("answer", response.pk)
    delivery = Topic.objects.get(slug="delivery")
    staff = Topic.objects.get(slug="staff")
    agent = UserFactory()
    services.topic_correct(insight_id=row.pk, topic_id=delivery.pk, present=False, actor=agent)
    services.topic_correct(insight_id=row.pk, topic_id=staff.pk, present=True, actor=agent)
    # The corrections change the version: every row is enriched again, staff's word stays.
    assert enrich_pending() == 1
    assert "staff" in _topics(row)
    assert "delivery" not in _topics(row)
    removal = TopicAssignment.objects.get(insight=row, topic=delivery)
    assert removal.by_staff and removal.removed and removal.corrected_by == agent
    corrections = services.corrections_current()
    assert {(c.slug, c.present) for c in corrections} == {("delivery", False), ("staff", True)}
    # Each correction carries its text: the refitted heads read its topic words too.
    assert {c.text for c in corrections} == {LATE}


def test_the_backfill_files_old_texts_enriches_them_and_resumes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Factories write the rows directly: no signal, as for texts written before insights.
    ResponseFactory(score=2, comment="Courier was rude to me")
    ResponseFactory(score=10, comment="Świetna jakość, polecam")
    ResponseFactory(score=9, comment="")
    ticket = TicketFactory()
    ticket.messages.create(direction="inbound", body="产品质量太差了")
    ticket.messages.create(direction="outbound", body="We are sorry")
    call_command("insights_backfill", "--batch", "2", "--no-progress")
    out = capsys.readouterr().out
    assert "enriched 3 rows" in out and "rows/s" in out and "peak RSS" in out
    assert CommentInsight.objects.filter(enriched_at__isnull=False).count() == 3
    languages = set(CommentInsight.objects.values_list("language", flat=True))
    assert languages == {"en", "pl", "zh-hans"}
    call_command("insights_backfill", "--no-progress")
    assert "Filed 0 texts; enriched 0 rows" in capsys.readouterr().out


def test_the_backfill_limit_and_since_bound_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    old = ResponseFactory(comment="Old comment about delivery")
    type(old).objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - timedelta(days=400),
        updated_at=timezone.now() - timedelta(days=400),
    )
    ResponseFactory(comment="New comment about price")
    ResponseFactory(comment="Another about stock")
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    call_command("insights_backfill", "--since", since, "--limit", "1", "--no-progress")
    assert "Filed 2 texts; enriched 1 rows" in capsys.readouterr().out
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        call_command("insights_backfill", "--since", "yesterday")


def test_sentiment_adapts_on_200_scored_comments_and_workers_load_it() -> None:
    rng = np.random.default_rng(18)
    insights = []
    for i in range(210):
        response = ResponseFactory(score=[0, 8, 10][i % 3], comment=f"c{i}")
        vector = rng.normal(size=384).astype(np.float32)
        vector[i % 3] += 8  # each label leans on its own axis: learnable
        vector /= np.linalg.norm(vector)
        insights.append(
            CommentInsight(
                source="answer",
                source_id=response.pk,
                text=response.comment,
                occurred_at=response.submitted_at,
                response=response,
                embedding=engine_module.pack(vector),
                enriched_at=timezone.now(),
            )
        )
    CommentInsight.objects.bulk_create(insights[:150])
    assert services.sentiment_train() == 0  # too few: the shipped model stays
    assert not EngineState.objects.exists()
    CommentInsight.objects.bulk_create(insights[150:])
    assert services.sentiment_train() == 210
    state = EngineState.objects.get(kind="sentiment")
    assert state.trained_on == 210
    assert services.sentiment_train() == 0  # nothing new
    setup = services.enrichment_setup()
    assert setup.loaded_sentiment == state.version


def test_erasing_a_customer_removes_their_insight_texts_and_embeddings() -> None:
    response = ResponseFactory(comment="My address is 5 Elm St, call me on 555 0101")
    services.insights_file(items=[sources.of_response(response)])
    other = ResponseFactory(comment="Fine")
    services.insights_file(items=[sources.of_response(other)])
    customer_erase(customer_id=response.customer_id)
    erased = CommentInsight.objects.get(source_id=response.pk)
    assert erased.text == "[erased]" and erased.embedding is None
    assert CommentInsight.objects.get(source_id=other.pk).text == "Fine"
    # Never enriched again: the placeholder is not a customer's words.
    version = services.enrichment_setup().version
    assert selectors.insights_pending_ids(version=version, limit=10) == [
        CommentInsight.objects.get(source_id=other.pk).pk
    ]
