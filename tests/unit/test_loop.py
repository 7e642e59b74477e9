"""Close the loop: every rule of tickets from answers, staff actions, escalation and recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from feedback.surveys.models import (
    EmailKind,
    EmailStatus,
    Invitation,
    InvitationPurpose,
    InvitationState,
    OutboundEmail,
)
from feedback.surveys.services.responses import response_record
from feedback.surveys.services.sending import outbound_email_send, outbound_emails_stuck
from feedback.tickets.models import MessageDirection, Ticket, TicketPriority, TicketStatus
from feedback.tickets.services import (
    TicketError,
    pick_assignee,
    priority_for,
    ticket_assign,
    ticket_log_contact,
    ticket_note,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
    ticket_sync_for_response,
    tickets_escalate_breached,
)
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def agent(name: str, **kwargs):  # type: ignore[no-untyped-def]
    user = UserFactory(username=name, password=None, **kwargs)
    group, _ = Group.objects.get_or_create(name="Agent")
    user.groups.add(group)
    return user


def answer(kind: str, score: int, **survey_kwargs):  # type: ignore[no-untyped-def]
    survey = SurveyFactory(kind=kind, **survey_kwargs)
    return ResponseFactory(invitation__survey=survey, score=score, comment="It was bad.")


@pytest.mark.parametrize(
    ("kind", "score", "opens"),
    [
        ("nps", 0, True), ("nps", 6, True), ("nps", 7, False), ("nps", 10, False),
        ("csat", 1, True), ("csat", 2, True), ("csat", 3, False), ("csat", 5, False),
        ("ces", 1, True), ("ces", 3, True), ("ces", 4, False), ("ces", 7, False),
    ],
)  # fmt: skip
def test_default_rule_opens_tickets_for_the_unhappy_band(
    kind: str, score: int, opens: bool
) -> None:
    response = answer(kind, score)
    result = ticket_sync_for_response(response_id=response.pk)
    assert (result.ticket is not None) is opens
    assert Ticket.objects.count() == int(opens)


def test_survey_rule_can_name_other_categories_or_switch_off() -> None:
    passive = answer("nps", 8, ticket_categories=["detractor", "passive"])
    assert ticket_sync_for_response(response_id=passive.pk).created
    off = answer("nps", 1, loop_enabled=False)
    assert ticket_sync_for_response(response_id=off.pk).ticket is None


@pytest.mark.parametrize(
    ("kind", "score", "priority"),
    [
        ("nps", 0, TicketPriority.HIGH), ("nps", 3, TicketPriority.HIGH),
        ("nps", 4, TicketPriority.NORMAL), ("nps", 6, TicketPriority.NORMAL),
        ("csat", 1, TicketPriority.HIGH), ("csat", 2, TicketPriority.NORMAL),
        ("ces", 2, TicketPriority.HIGH), ("ces", 3, TicketPriority.NORMAL),
        ("nps", 8, TicketPriority.LOW),
    ],
)  # fmt: skip
def test_priority_from_the_score(kind: str, score: int, priority: int) -> None:
    assert priority_for(kind, score) == priority


def test_ticket_has_sla_comment_event_and_one_per_response() -> None:
    response = answer("nps", 2, sla_hours=8)
    before = timezone.now()
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    assert ticket is not None
    assert before + timedelta(hours=8) <= ticket.due_at <= timezone.now() + timedelta(hours=8)
    assert ticket.status == TicketStatus.NEW and ticket.priority == TicketPriority.HIGH
    assert ticket.touchpoint == response.touchpoint and ticket.customer == response.customer
    assert ticket.messages.get().body == "It was bad."
    assert ticket.events.filter(action="created").count() == 1
    again = ticket_sync_for_response(response_id=response.pk)
    assert not again.created and Ticket.objects.count() == 1


def test_changed_score_updates_the_ticket_priority_with_an_event() -> None:
    response = answer("nps", 1)
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    response.score, response.category = 5, "detractor"
    response.save()
    ticket_sync_for_response(response_id=response.pk)
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.NORMAL
    assert ticket.events.filter(action="priority").count() == 1


def test_assignment_prefers_the_touchpoint_owner_then_the_least_loaded_agent() -> None:
    owner = UserFactory(username="owner", password=None)  # staff, but not in the Agent group
    busy, free = agent("busy"), agent("free")
    TicketFactory(assignee=busy)
    assert pick_assignee(owner.pk) == owner
    assert pick_assignee(None) == free
    owner.is_active = False
    owner.save()
    assert pick_assignee(owner.pk) == free  # an inactive owner falls back to round-robin


def test_round_robin_spreads_new_tickets() -> None:
    first, second = agent("first"), agent("second")
    tickets = [ticket_sync_for_response(response_id=answer("nps", 1).pk).ticket for _ in range(4)]
    assignees = [t.assignee for t in tickets if t]
    assert assignees.count(first) == 2 and assignees.count(second) == 2


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_assignee_is_alerted_and_customer_acknowledged(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    agent("alice", email="alice@staff.example.com")
    response = answer("csat", 1, acknowledge_customer=True)
    with django_capture_on_commit_callbacks(execute=False):
        ticket_sync_for_response(response_id=response.pk)
    queued = {e.kind: e for e in OutboundEmail.objects.all()}
    assert queued[EmailKind.ALERT].to_email == "alice@staff.example.com"
    assert queued[EmailKind.ACKNOWLEDGEMENT].to_email == response.customer.email
    for email in queued.values():
        outbound_email_send(email_id=email.pk)
    assert {m.to[0] for m in mail.outbox} == {"alice@staff.example.com", response.customer.email}
    assert all(e.status == EmailStatus.SENT for e in OutboundEmail.objects.all())


def test_callback_request_becomes_a_note_once() -> None:
    response = answer("nps", 2)
    response.answers = {"callback": {"phone": "+1 555 0100", "time": "morning"}}
    response.save()
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    ticket_sync_for_response(response_id=response.pk)
    notes = ticket.messages.filter(direction=MessageDirection.NOTE)
    assert notes.count() == 1 and "+1 555 0100" in notes.get().body


def test_recording_an_answer_enqueues_the_ticket_after_commit(
    django_capture_on_commit_callbacks, settings
) -> None:  # type: ignore[no-untyped-def]
    from cxcrm.celery import app

    invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response_record(invitation_id=invitation.pk, score=0)
    finally:
        app.conf.task_always_eager = False
    assert Ticket.objects.get().response.invitation == invitation


def test_every_staff_change_is_an_event() -> None:
    boss = UserFactory(username="boss2", password=None)
    bob = agent("bob")
    ticket = TicketFactory()
    ticket_assign(ticket_id=ticket.pk, assignee=bob, actor=boss)
    ticket_set_priority(ticket_id=ticket.pk, priority=TicketPriority.URGENT, actor=boss)
    ticket_set_status(ticket_id=ticket.pk, status=TicketStatus.OPEN, actor=boss)
    actions = list(ticket.events.values_list("action", "from_value", "to_value", "actor"))
    assert actions == [
        ("assignee", "", "bob", boss.pk),
        ("priority", "normal", "urgent", boss.pk),
        ("status", "new", "open", boss.pk),
    ]


def test_bad_status_moves_are_refused() -> None:
    ticket = TicketFactory()
    with pytest.raises(TicketError, match="root cause"):
        ticket_set_status(ticket_id=ticket.pk, status=TicketStatus.RESOLVED)
    with pytest.raises(TicketError, match="Only a resolved"):
        ticket_set_status(ticket_id=ticket.pk, status=TicketStatus.CLOSED)
    with pytest.raises(TicketError, match="Unknown status"):
        ticket_set_status(ticket_id=ticket.pk, status="lost")
    with pytest.raises(TicketError, match="active staff"):
        ticket_assign(ticket_id=ticket.pk, assignee=UserFactory(is_staff=False, password=None))


def test_reply_emails_the_customer_threaded_and_is_first_contact_once_accepted() -> None:
    survey_email_id = "<survey-1@reply.localhost>"
    response = ResponseFactory(
        score=1, invitation__message_id=survey_email_id, invitation__state="responded"
    )
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    staff = agent("replier")
    ticket_reply(ticket_id=ticket.pk, body="So sorry — a refund is on its way.", actor=staff)
    ticket.refresh_from_db()
    # Queued, not yet accepted by any server: not contact yet.
    assert ticket.first_contact_at is None and ticket.status == TicketStatus.NEW
    email = OutboundEmail.objects.get(kind=EmailKind.TICKET_REPLY)
    outbound_email_send(email_id=email.pk)
    ticket.refresh_from_db()
    email.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.first_contact_at == email.sent_at is not None
    assert ticket.events.get(action="contacted").actor == staff
    assert email.to_email == response.customer.email
    assert email.headers["In-Reply-To"] == survey_email_id
    assert survey_email_id in email.headers["References"]
    assert email.headers["Reply-To"].startswith(f"reply+{response.invitation.token}@")
    reply = ticket.messages.get(direction=MessageDirection.OUTBOUND)
    assert reply.message_id == email.message_id
    # A second reply threads under the first.
    ticket_reply(ticket_id=ticket.pk, body="Refund done.", actor=staff)
    second = OutboundEmail.objects.filter(kind=EmailKind.TICKET_REPLY).latest("id")
    assert second.headers["In-Reply-To"] == reply.message_id


def test_reply_refused_for_suppressed_or_empty() -> None:
    ticket = TicketFactory(
        customer=CustomerFactory(suppressed_at=timezone.now(), suppression_reason="hard_bounce")
    )
    with pytest.raises(TicketError, match="suppressed"):
        ticket_reply(ticket_id=ticket.pk, body="hi", actor=None)
    with pytest.raises(TicketError, match="needs some text"):
        ticket_reply(ticket_id=TicketFactory().pk, body="   ", actor=None)
    assert not OutboundEmail.objects.exists()


def test_note_and_logged_call() -> None:
    ticket = TicketFactory()
    staff = agent("caller")
    ticket_note(ticket_id=ticket.pk, body="Customer is a VIP.", actor=staff)
    ticket_log_contact(ticket_id=ticket.pk, actor=staff, note="Called, will refund.")
    ticket.refresh_from_db()
    assert ticket.first_contact_at is not None
    assert ticket.messages.filter(direction=MessageDirection.NOTE).count() == 2
    assert not OutboundEmail.objects.exists()  # notes are never emailed


def test_resolve_needs_a_root_cause_and_can_send_a_followup() -> None:
    response = answer("nps", 2)
    ticket = ticket_sync_for_response(response_id=response.pk).ticket
    with pytest.raises(TicketError, match="root cause"):
        ticket_resolve(ticket_id=ticket.pk, root_cause=None)
    cause = RootCauseFactory(name="Late delivery")
    ticket_resolve(ticket_id=ticket.pk, root_cause=cause, resolution="Refunded", send_followup=True)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None
    followup = Invitation.objects.get(purpose=InvitationPurpose.FOLLOWUP)
    assert followup.ticket == ticket and followup.survey == response.survey
    assert followup.state == InvitationState.SCHEDULED


@pytest.mark.parametrize(("score", "recovered"), [(9, True), (7, False), (3, False)])
def test_followup_answer_marks_recovery(score: int, recovered: bool) -> None:
    ticket = ticket_sync_for_response(response_id=answer("nps", 2).pk).ticket
    ticket_resolve(ticket_id=ticket.pk, root_cause=RootCauseFactory(), send_followup=True)
    followup = Invitation.objects.get(purpose=InvitationPurpose.FOLLOWUP)
    Invitation.objects.filter(pk=followup.pk).update(state="sent", sent_at=timezone.now())
    result = response_record(invitation_id=followup.pk, score=score)
    ticket_sync_for_response(response_id=result.response.pk)
    ticket.refresh_from_db()
    assert ticket.recovered is recovered
    assert Ticket.objects.count() == 1  # a follow-up answer never opens a ticket of its own


def test_reopen() -> None:
    ticket = TicketFactory()
    ticket_resolve(ticket_id=ticket.pk, root_cause=RootCauseFactory())
    ticket_reopen(ticket_id=ticket.pk, note="Customer wrote back")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.resolved_at is None


def test_escalation_raises_priority_alerts_managers_and_happens_once() -> None:
    manager = UserFactory(username="manager", email="m@staff.example.com", password=None)
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    now = timezone.now()
    late = TicketFactory(due_at=now - timedelta(hours=1), priority=TicketPriority.NORMAL)
    urgent = TicketFactory(due_at=now - timedelta(hours=1), priority=TicketPriority.URGENT)
    contacted = TicketFactory(due_at=now - timedelta(hours=1), first_contact_at=now)
    TicketFactory(due_at=now + timedelta(hours=1))

    assert tickets_escalate_breached(now=now) == 2
    assert tickets_escalate_breached(now=now + timedelta(hours=1)) == 0  # never twice
    late.refresh_from_db()
    urgent.refresh_from_db()
    contacted.refresh_from_db()
    assert late.priority == TicketPriority.HIGH and late.escalated_at is not None
    assert urgent.priority == TicketPriority.URGENT
    assert contacted.escalated_at is None
    assert late.events.filter(action="escalated").count() == 1
    alerts = OutboundEmail.objects.filter(kind=EmailKind.ALERT, to_email="m@staff.example.com")
    assert alerts.count() == 2


def test_outbox_sweep_finds_emails_whose_task_never_ran() -> None:
    old = OutboundEmail.objects.create(to_email="a@example.com", subject="s", status="queued")
    OutboundEmail.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    OutboundEmail.objects.create(to_email="b@example.com", subject="s", status="queued")
    assert outbound_emails_stuck(
        never_tried_for=timedelta(minutes=5), retrying_for=timedelta(hours=6)
    ) == [old.pk]
