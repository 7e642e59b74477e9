"""Demo tickets: the loop worked by staff over 90 days (part of the demo generator)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from feedback.demo.data import (
    CALL_NOTE,
    CUSTOMER_REPLY,
    ROOT_CAUSES,
    STAFF_ASK,
    STAFF_RESOLVED,
)
from feedback.surveys.models import Invitation, InvitationPurpose, InvitationState, ResponseChannel
from feedback.surveys.scoring import BANDS, Sentiment, SurveyKind, categorize, sentiment_of
from feedback.tickets.models import (
    MessageDirection,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketPriority,
    TicketSource,
    TicketStatus,
)

SLA_HOURS = 48


@dataclass
class _TicketPlan:
    ticket: Ticket
    cause: str
    asks: bool  # the first contact asks the customer something (the ticket goes pending)
    times: list[datetime]  # opened, first contact, customer's reply, resolved, closed
    order: str
    step: int = 0  # how many of those happened: 0 new ... 5 closed
    messages: list[TicketMessage] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.step == 2 and self.asks:
            return TicketStatus.PENDING
        return ("new", "open", "open", "open", "resolved", "closed")[self.step]


class TicketsMixin:
    """Ticket generation for _Builder (feedback/demo/seed.py); uses its state (rng, now...)."""

    # --- tickets ------------------------------------------------------------------------------

    def _tickets(self) -> None:
        rng, now = self.rng, self.now
        agents, turn = list(self.staff.values()), 0
        for response in self.responses:
            kind, score = response.kind, response.score
            # Most unhappy answers open a ticket (the rest: e.g. an open ticket existed).
            if sentiment_of(kind, score) != Sentiment.BAD or rng.random() > 0.87:
                continue
            touchpoint = response.touchpoint
            assert touchpoint is not None and response.invitation is not None
            assignee = touchpoint.owner
            if assignee is None:
                assignee, turn = agents[turn % len(agents)], turn + 1
            lowest = score <= 3 if kind == SurveyKind.NPS else score == BANDS[kind][0].low
            priority = TicketPriority.HIGH if lowest else TicketPriority.NORMAL
            if lowest and (response.customer.segment == "vip" or rng.random() < 0.15):
                priority = TicketPriority.URGENT
            created = response.submitted_at + timedelta(seconds=rng.uniform(1, 20))
            ticket = Ticket(
                customer=response.customer,
                response=response,
                touchpoint=touchpoint,
                source=TicketSource.RESPONSE,
                subject=f"{categorize(kind, score).label} ({kind.upper()} {score}) after "
                f"{touchpoint.name}",
                priority=priority,
                assignee=assignee,
                due_at=created + timedelta(hours=SLA_HOURS),
                created_at=created,
            )
            opened = created + timedelta(hours=rng.uniform(0.1, 20))
            late = rng.random() < 0.2
            contact = opened + timedelta(
                hours=rng.uniform(30, 72) if late else rng.uniform(0.2, 24)
            )
            asks = rng.random() < 0.6
            reply = contact + timedelta(hours=rng.uniform(2, 48)) if asks else contact
            resolved = reply + timedelta(hours=rng.uniform(2, 120))
            closed = resolved + timedelta(days=rng.uniform(3, 7))
            interaction = response.invitation.interaction
            plan = _TicketPlan(
                ticket=ticket,
                cause=self.cause_of[id(response)],
                asks=asks,
                times=[opened, contact, reply, resolved, closed],
                order=(interaction.order_ref if interaction else "")
                or f"SO-{rng.randrange(100000, 999999)}",
            )
            plan.step = sum(1 for t in plan.times if t <= now)
            if created > now - timedelta(days=30):  # a backlog: some recent tickets stall
                stall = rng.random()
                cap = 0 if stall < 0.12 else 1 if stall < 0.3 else 2 if stall < 0.42 else 5
                plan.step = min(plan.step, cap)
            self.plans.append(plan)
        self._every_status()
        for plan in self.plans:
            self._ticket_history(plan)

    def _every_status(self) -> None:
        """Stop a ticket earlier, or let an old one finish, when a status would be missing, so
        the triage queue always has every column."""
        for status, step in (
            ("new", 0),
            ("open", 1),
            ("pending", 2),
            ("resolved", 4),
            ("closed", 5),
        ):
            have = Counter(p.status for p in self.plans)
            if have[status]:
                continue
            candidates = [
                p
                for p in self.plans
                if have[p.status] > 1
                and (status != "pending" or p.asks)
                and (step == 0 or p.times[step - 1] <= self.now)
            ]
            if step < 4:  # an unfinished ticket should be a recent one
                candidates = candidates[-3:]
            if candidates:
                self.rng.choice(candidates).step = step

    def _ticket_history(self, plan: _TicketPlan) -> None:
        """The messages and audit events of the ticket's life so far, and its final fields."""
        rng, t = self.rng, plan.ticket
        response, customer = t.response, t.customer
        assert response is not None and t.assignee is not None and t.due_at is not None
        invitation = response.invitation
        assert invitation is not None
        opened, contact, reply, resolved, closed = plan.times
        language = customer.language
        name = customer.name if language == "zh-hans" else customer.name.split()[0]
        agent = t.assignee

        def event(
            at: datetime, action: str, old: str, new: str, actor: Any = None, note: str = ""
        ) -> None:
            plan.events.append(
                TicketEvent(ticket=t, actor=actor, action=action, from_value=old, to_value=new,
                            note=note, created_at=at)
            )  # fmt: skip

        # Emails are threaded by Message-ID; a note, or a comment typed on the survey page,
        # has none.
        thread = [invitation.message_id] if response.channel == ResponseChannel.REPLY else []

        def message(at: datetime, direction: str, body: str, author: Any = None) -> None:
            inbound = direction == MessageDirection.INBOUND
            emailed = direction == MessageDirection.OUTBOUND or (inbound and bool(thread))
            plan.messages.append(
                TicketMessage(
                    ticket=t,
                    direction=direction,
                    author=author,
                    from_email=customer.email if inbound else "",
                    body=body,
                    message_id=self._message_id("msg") if emailed else "",
                    in_reply_to=thread[-1] if emailed and thread else "",
                    created_at=at,
                )
            )
            if emailed:
                thread.append(plan.messages[-1].message_id)

        def sign(template: dict[str, str]) -> str:
            return template[language].format(
                name=name, agent=agent.get_full_name() or agent.get_username()
            )

        t.status = plan.status
        event(
            t.created_at,
            "created",
            "",
            "new",
            note=f"From a {response.kind.upper()} answer of {response.score}",
        )
        event(t.created_at, "assignee", "", agent.get_username(), note="Assigned automatically")
        if response.comment:
            message(t.created_at, MessageDirection.INBOUND, response.comment)
        if plan.step >= 1:
            if rng.random() < 0.15:
                other = rng.choice([u for u in self.staff.values() if u.pk != agent.pk])
                event(
                    opened,
                    "assignee",
                    agent.get_username(),
                    other.get_username(),
                    agent,
                    "Handed over",
                )
                agent = t.assignee = other
            event(opened, "status", "new", "open", agent)
        if plan.step >= 2:
            t.first_contact_at = contact
            if plan.asks:
                message(contact, MessageDirection.OUTBOUND, sign(STAFF_ASK), agent)
                event(contact, "status", "open", "pending", agent)
            else:
                message(contact, MessageDirection.NOTE, CALL_NOTE, agent)
        if plan.step >= 3 and plan.asks:
            message(
                reply, MessageDirection.INBOUND, CUSTOMER_REPLY[language].format(order=plan.order)
            )
            event(reply, "status", "pending", "open", note="Customer replied")
        if plan.step >= 4:
            _, note, resolution = ROOT_CAUSES[plan.cause]
            message(
                resolved - timedelta(minutes=rng.uniform(5, 60)), MessageDirection.NOTE, note, agent
            )
            message(resolved, MessageDirection.OUTBOUND, sign(STAFF_RESOLVED), agent)
            t.resolved_at, t.resolution, t.root_cause = (
                resolved,
                resolution,
                self.causes[plan.cause],
            )
            event(resolved, "root_cause", "", plan.cause, agent)
            event(resolved, "status", "open", "resolved", agent)
        if plan.step >= 5:
            event(
                closed,
                "status",
                "resolved",
                "closed",
                note="Closed automatically after the grace period",
            )
        # The beat escalates a breach once: no first contact by due_at.
        if (t.first_contact_at is None or t.first_contact_at > t.due_at) and t.due_at < self.now:
            escalated = t.due_at + timedelta(minutes=rng.uniform(1, 15))
            if escalated <= self.now:
                t.escalated_at = escalated
                event(escalated, "escalated", "", "overdue", note="No first contact within the SLA")
        if plan.step >= 4 and rng.random() < 0.45:
            self._followup(plan)

    def _followup(self, plan: _TicketPlan) -> None:
        """The one-question follow-up after resolving, which measures recovery."""
        t = plan.ticket
        assert t.response is not None and t.resolved_at is not None and t.touchpoint is not None
        due = t.resolved_at + timedelta(days=1)
        if due > self.now:
            return
        survey = t.response.survey
        inv = Invitation(
            survey=survey,
            customer=t.customer,
            ticket=t,
            purpose=InvitationPurpose.FOLLOWUP,
            scheduled_for=due,
            expires_at=due + timedelta(days=survey.expires_after_days),
            created_at=t.resolved_at,
        )
        self._dispatch(inv, answer_rate=0.7)
        self.followups.append(inv)
        if inv.state == InvitationState.RESPONDED:
            answer = self._answer(inv, t.touchpoint, self.answer_at[id(inv)], recovery=True)
            t.recovered = sentiment_of(answer.kind, answer.score) == Sentiment.GOOD
            self.followup_responses.append(answer)
