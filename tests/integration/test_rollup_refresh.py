"""Refreshing a day's rollups on PostgreSQL: two refreshes of one day at once (two threads,
two connections) end with that day's rows once, equal to a recompute from the raw rows; a
refresh run again changes nothing; an answer recorded by the product is rolled up by a real
Celery worker after commit."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from feedback.reporting import rollups
from feedback.reporting.models import AnswerRollup, Grain, RollupMark, TicketRollup
from feedback.reporting.rollups import (
    day_bounds,
    day_of,
    rollups_mark,
    rollups_rebuild,
    rollups_refresh,
)
from feedback.surveys.models import InvitationState
from feedback.surveys.services.responses import response_record
from tests.factories import (
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
    TicketFactory,
)
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ANSWER_FIELDS = ("day", "grain", "survey_id", "touchpoint_id", "segment", "kind", "n", "good")
TICKET_FIELDS = ("day", "grain", "touchpoint_id", "created", "sla_contacted", "first_contact")


def _rows(model: Any, fields: tuple[str, ...], day: Any) -> list[tuple[Any, ...]]:
    return sorted(map(repr, model.objects.filter(day=day).values_list(*fields)))


def _noon(*, days_ago: int) -> datetime:
    # Noon of a past day: the worlds below span minutes to hours after it, and must stay on
    # one day whatever the time the test runs (at 23:50 they crossed midnight).
    return day_bounds(timezone.localdate() - timedelta(days=days_ago))[0] + timedelta(hours=12)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Grain) else value


def _expected(day: Any) -> tuple[list[Any], list[Any]]:
    answer_rows, _, ticket_rows = rollups.rollup_rows(day, day)
    # As read back from the database: the grain as plain text, not the enum member.
    answers = [tuple(_plain(getattr(r, f)) for f in ANSWER_FIELDS) for r in answer_rows]
    tickets = [tuple(_plain(getattr(r, f)) for f in TICKET_FIELDS) for r in ticket_rows]
    return sorted(map(repr, answers)), sorted(map(repr, tickets))


def _world(moment: Any) -> None:
    survey = SurveyFactory()
    for i in range(12):
        interaction = InteractionFactory()
        invitation = InvitationFactory(
            survey=survey,
            customer=interaction.customer,
            interaction=interaction,
            state=InvitationState.RESPONDED,
            sent_at=moment,
        )
        ResponseFactory(
            invitation=invitation,
            survey=survey,
            kind=survey.kind,
            customer=invitation.customer,
            touchpoint=interaction.touchpoint,
            score=i % 11,
            submitted_at=moment + timedelta(minutes=i),
        )
        TicketFactory(
            customer=interaction.customer,
            touchpoint=interaction.touchpoint,
            created_at=moment + timedelta(minutes=i),
            first_contact_at=moment + timedelta(hours=i + 1),
        )


def _refresh(day: Any, start: threading.Barrier, outcomes: list[bool]) -> None:
    try:
        start.wait()
        outcomes.append(rollups_refresh(day=day))
    finally:
        connection.close()  # this thread's own connection


def test_two_refreshes_of_one_day_at_once_leave_it_counted_once() -> None:
    moment = _noon(days_ago=3)
    day = day_of(moment)
    _world(moment)
    rollups_rebuild()
    for _ in range(4):
        rollups_mark(moments=[moment])
        start = threading.Barrier(2)
        outcomes: list[bool] = []

        threads = [threading.Thread(target=_refresh, args=(day, start, outcomes)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # One of them recomputed; the other found the marks gone (or recomputed after it).
        assert True in outcomes and len(outcomes) == 2
        assert not RollupMark.objects.filter(day=day).exists()
        answers, tickets = _expected(day)
        assert _rows(AnswerRollup, ANSWER_FIELDS, day) == answers
        assert _rows(TicketRollup, TICKET_FIELDS, day) == tickets
        totals = AnswerRollup.objects.filter(day=day, grain=Grain.ALL)
        assert sum(totals.values_list("n", flat=True)) == 12


def test_a_refresh_run_again_changes_nothing() -> None:
    moment = _noon(days_ago=2)
    day = day_of(moment)
    _world(moment)
    rollups_rebuild()
    rollups_mark(moments=[moment])
    assert rollups_refresh(day=day) is True
    first = _rows(AnswerRollup, ANSWER_FIELDS, day), _rows(TicketRollup, TICKET_FIELDS, day)
    assert rollups_refresh(day=day) is False  # no mark left: nothing to do
    rollups_mark(moments=[moment])
    assert rollups_refresh(day=day) is True  # marked again: the same rows again
    assert (
        _rows(AnswerRollup, ANSWER_FIELDS, day),
        _rows(TicketRollup, TICKET_FIELDS, day),
    ) == first
    assert first[0] and first[1]


def test_a_worker_rolls_up_an_answer_after_its_commit(celery_worker, redis_broker) -> None:  # type: ignore[no-untyped-def]
    moment = _noon(days_ago=2)
    day = day_of(moment)
    _world(moment)
    rollups_rebuild()
    survey = SurveyFactory()
    interaction = InteractionFactory()
    invitation = InvitationFactory(
        survey=survey,
        customer=interaction.customer,
        interaction=interaction,
        state=InvitationState.SENT,
        sent_at=moment,
    )
    celery_worker(name="rollups")

    with transaction.atomic():
        response_record(invitation_id=invitation.pk, score=3, now=moment + timedelta(hours=1))
        # The day is marked in the answer's transaction: read raw until the worker is done.
        assert RollupMark.objects.filter(day=day).exists()

    wait_for(lambda: not RollupMark.objects.filter(day=day).exists(), timeout=60)
    totals = AnswerRollup.objects.filter(day=day, grain=Grain.ALL)
    assert sum(totals.values_list("n", flat=True)) == 13
    answers, tickets = _expected(day)
    assert _rows(AnswerRollup, ANSWER_FIELDS, day) == answers
    assert _rows(TicketRollup, TICKET_FIELDS, day) == tickets
