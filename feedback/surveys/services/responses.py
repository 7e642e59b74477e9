"""Recording answers (the loop, step 4): one response per invitation, updated, never duplicated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from cxcrm.errors import ServiceError
from feedback.surveys import events, signals
from feedback.surveys.models import Invitation, InvitationState, Response, ResponseChannel
from feedback.surveys.scoring import ScoreError, categorize

MAX_COMMENT_CHARS = 5000
MAX_HISTORY = 50

# An invitation can be answered once its email may have reached the customer: while it is
# being sent (the click can race the worker's bookkeeping), once sent, and again to change it.
ANSWERABLE_STATES = (InvitationState.SENDING, InvitationState.SENT, InvitationState.RESPONDED)


class SurveyClosed(ServiceError):
    """The invitation expired, was cancelled, or never went out: nothing may be recorded."""


class InvalidAnswer(ServiceError, ValueError):
    """The answer itself is wrong (score out of range, comment too long...)."""


@dataclass(frozen=True)
class ResponseResult:
    response: Response
    created: bool
    changed: bool


def is_open(invitation: Invitation, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if invitation.state not in ANSWERABLE_STATES:
        return False
    return not (invitation.expires_at and invitation.expires_at <= now)


def clean_comment(comment: str) -> str:
    comment = comment.replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidAnswer(f"The comment is too long (at most {MAX_COMMENT_CHARS} characters).")
    return comment


@transaction.atomic
def response_record(
    *,
    invitation_id: int,
    score: int | None = None,
    comment: str | None = None,
    answers: dict[str, Any] | None = None,
    channel: str | None = None,
    language: str = "",
    now: datetime | None = None,
) -> ResponseResult:
    """Record or update the answer to an invitation.

    The invitation row is locked first, so a replayed or concurrent POST waits and then
    updates the one response instead of racing to create a second (the OneToOne constraint
    would refuse it anyway). A change keeps the previous version in ``history``.
    ``score=None`` adds a comment or follow-up answers to an existing response; ``channel`` is
    how the score arrived (default: the web page).
    """
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("survey", "interaction", "ticket")
        .get(pk=invitation_id)
    )
    if not is_open(invitation, now):
        raise SurveyClosed(
            f"Invitation {invitation_id} is {invitation.state} and takes no answers."
        )
    kind = invitation.survey.kind
    if score is not None:
        try:
            category = categorize(kind, score)
        except ScoreError as exc:
            raise InvalidAnswer(str(exc)) from None
    if comment is not None:
        comment = clean_comment(comment)
    existing = Response.objects.filter(invitation=invitation).first()
    if existing is None:
        if score is None:
            raise InvalidAnswer("Choose a score first.")
        if invitation.interaction_id:
            touchpoint_id = invitation.interaction.touchpoint_id
        else:
            touchpoint_id = invitation.ticket.touchpoint_id if invitation.ticket_id else None
        response = Response.objects.create(
            invitation=invitation,
            survey=invitation.survey,
            kind=kind,
            customer_id=invitation.customer_id,
            touchpoint_id=touchpoint_id,
            score=score,
            category=category,
            comment=comment or "",
            answers=answers or {},
            language=language or "en",
            channel=channel or ResponseChannel.WEB,
            submitted_at=now,
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            state=InvitationState.RESPONDED, updated_at=now
        )
        _after_change(response)
        return ResponseResult(response, created=True, changed=True)

    response = existing
    new_score = response.score if score is None else score
    new_comment = response.comment if comment is None else comment
    new_answers = {**response.answers, **(answers or {})}
    changed = (
        new_score != response.score
        or new_comment != response.comment
        or new_answers != response.answers
    )
    if changed:
        history = list(response.history)[-(MAX_HISTORY - 1) :]
        history.append(
            {
                "at": response.updated_at.isoformat(),
                "score": response.score,
                "comment": response.comment,
                "channel": response.channel,
            }
        )
        response.history = history
        response.score = new_score
        response.category = categorize(kind, new_score)
        response.comment = new_comment
        response.answers = new_answers
        if channel and score is not None:
            # The channel says how the score came in; a later comment does not change it.
            response.channel = channel
        if language:
            response.language = language
        response.save()
        _after_change(response)
    return ResponseResult(response, created=False, changed=changed)


def _after_change(response: Response) -> None:
    """Tell the loop (it opens or updates the ticket this answer calls for) and integrators,
    and reporting (it marks the days whose figures moved)."""
    signals.response_changed.send(sender=Response, response=response)
    events.response_changed(response)


@transaction.atomic
def response_record_external(
    *,
    survey: Any,
    customer: Any,
    touchpoint: Any,
    score: int,
    submitted_at: datetime,
    comment: str = "",
    answers: dict[str, Any] | None = None,
    language: str = "",
    channel: str = ResponseChannel.API,
) -> Response:
    """An answer captured outside our emails (a store kiosk, a review site, a call centre):
    no invitation. Scored like any answer, and the loop runs the same way (ticket after commit,
    webhook events)."""
    try:
        category = categorize(survey.kind, score)
    except ScoreError as exc:
        raise InvalidAnswer(str(exc)) from None
    response = Response.objects.create(
        invitation=None,
        survey=survey,
        kind=survey.kind,
        customer=customer,
        touchpoint=touchpoint,
        score=score,
        category=category,
        comment=clean_comment(comment or ""),
        answers=answers or {},
        language=language or customer.language or "en",
        channel=channel,
        submitted_at=submitted_at,
    )
    _after_change(response)
    return response
