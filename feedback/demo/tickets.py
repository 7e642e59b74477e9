"""Demo tickets: staff working the loop over 90 days (part of the demo replay, seed.py).

Each ticket the loop opens gets a plan drawn when it opens (when it is picked up, first contact
by email or phone, the customer's answer, resolution with or without a follow-up survey,
closing, sometimes a reopening); each step is a staff or customer action through the ticket
services at its time of the replay.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from feedback.demo.comments import EXTRA, SURGE_DAYS, SURGE_TOUCHPOINT
from feedback.demo.data import CALL_NOTE, CUSTOMER_REPLY, ROOT_CAUSES, STAFF_ASK, STAFF_RESOLVED
from feedback.surveys.models import OutboundEmail
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.emails import agent_name
from feedback.tickets.models import RootCause, SavedReply, Ticket, TicketMessage, TicketStatus
from feedback.tickets.services import (
    TicketError,
    ticket_assign,
    ticket_log_contact,
    ticket_message_receive,
    ticket_note,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_set_status,
)

SLA_HOURS = 48
STALLS = (5, 0, 5, 1, 5, 2, 5, 5)  # steps done by the recent tickets, in turn (5: all)


class TicketWork:
    """Ticket work for _Replay (feedback/demo/seed.py); uses its rng, clock, staff and queue."""

    rng: random.Random
    now: datetime
    staff: dict[str, Any]
    causes: dict[str, RootCause]
    later: Callable[[datetime, Callable[[], None]], None]
    touchpoints: dict[str, Any]
    recent = 0  # tickets opened in the last 30 days so far

    def work(self, ticket: Ticket, cause: str, created: datetime) -> None:
        rng = self.rng
        opened = created + timedelta(hours=rng.uniform(0.1, 20))
        late = rng.random() < 0.2
        contact = opened + timedelta(hours=rng.uniform(30, 72) if late else rng.uniform(0.2, 24))
        steps = 5
        if created > self.now - timedelta(days=30):
            # A backlog: recent tickets stall in turn as new (0 steps), open (1) or waiting
            # for the customer (2), so the triage queue has every column.
            self.recent += 1
            steps = STALLS[self.recent % len(STALLS)]
        asks = steps == 2 or rng.random() < 0.6
        reply = contact + timedelta(hours=rng.uniform(2, 48)) if asks else contact
        resolved = reply + timedelta(hours=rng.uniform(2, 120))
        closed = resolved + timedelta(days=rng.uniform(3, 7))
        # Some customers never answer the question: the ticket is resolved without it.
        silent = asks and rng.random() < 0.2
        handover = rng.random() < 0.15
        followup = rng.random() < 0.45
        comeback = rng.random()  # the customer writes back after resolution, or staff reopen
        order = (ticket.response.invitation.interaction.order_ref  # type: ignore[union-attr]
                 if ticket.response and ticket.response.invitation
                 and ticket.response.invitation.interaction else "") or (
            f"SO-{rng.randrange(100000, 999999)}")  # fmt: skip
        pk = ticket.pk
        sent: list[TicketMessage] = []
        replies = CUSTOMER_REPLY
        surge = self.touchpoints.get(SURGE_TOUCHPOINT)
        if (
            surge
            and ticket.touchpoint_id == surge.pk
            and self.now - created <= timedelta(days=SURGE_DAYS)
        ):
            # In the delivery wave the customer's answer says what they are going through.
            replies = {
                language: f"{rng.choice(EXTRA['Delivery surge reply'][language])}\n{text}"
                for language, text in CUSTOMER_REPLY.items()
            }

        def agent() -> Any:
            assignee = Ticket.objects.select_related("assignee").get(pk=pk).assignee
            if assignee is None:
                # Nobody in the Agent group to route it to (a database without the roles'
                # data): a staff member picks it up, as a person would.
                assignee = rng.choice(sorted(self.staff.values(), key=lambda u: u.pk))
                ticket_assign(ticket_id=pk, assignee=assignee, now=opened)
            return assignee

        def pick_up() -> None:
            if handover:
                me = agent()
                other = rng.choice([u for u in self.staff.values() if u.pk != getattr(me, "pk", 0)])
                ticket_assign(ticket_id=pk, assignee=other, actor=me, now=opened)
            ticket_set_status(ticket_id=pk, status=TicketStatus.OPEN, actor=agent(), now=opened)

        def first_contact() -> None:
            me = agent()
            if asks and self._email(pk, STAFF_ASK, me, contact, sent):
                ticket_set_status(ticket_id=pk, status=TicketStatus.PENDING, actor=me, now=contact)
            else:
                ticket_log_contact(ticket_id=pk, actor=me, note=CALL_NOTE, now=contact)

        def customer_answers() -> None:
            self._customer_writes(pk, replies, order, sent, reply)

        def resolve(at: datetime, *, ask_again: bool) -> None:
            me = agent()
            _, note, resolution = ROOT_CAUSES[cause]
            ticket_note(
                ticket_id=pk, body=note, actor=me, now=at - timedelta(minutes=rng.uniform(5, 60))
            )
            self._email(pk, STAFF_RESOLVED, me, at, sent)
            ticket_resolve(
                ticket_id=pk, root_cause=self.causes[cause], resolution=resolution, actor=me,
                send_followup=ask_again, now=at,
            )  # fmt: skip

        def close(at: datetime) -> Callable[[], None]:
            def run() -> None:
                if Ticket.objects.filter(pk=pk, status=TicketStatus.RESOLVED).exists():
                    ticket_set_status(
                        ticket_id=pk, status=TicketStatus.CLOSED, actor=agent(), now=at
                    )

            return run

        plan: list[tuple[datetime, Callable[[], None]]] = [
            (opened, pick_up),
            (contact, first_contact),
            (reply, customer_answers),
            (resolved, lambda: resolve(resolved, ask_again=followup)),
        ]
        if comeback < 0.06:  # "it still does not work": the reply reopens the ticket
            back = resolved + timedelta(hours=rng.uniform(12, 72))
            again = back + timedelta(hours=rng.uniform(4, 48))
            plan += [
                (back, lambda: self._customer_writes(pk, CUSTOMER_REPLY, order, sent, back)),
                (again, lambda: resolve(again, ask_again=False)),
            ]
            closed = again + timedelta(days=rng.uniform(3, 7))
        elif comeback < 0.09:  # a manager reopens it: the fix did not hold
            back = resolved + timedelta(hours=rng.uniform(12, 72))
            again = back + timedelta(hours=rng.uniform(4, 48))
            plan += [
                (back, lambda: ticket_reopen(ticket_id=pk, actor=agent(), now=back,
                                             note="The fix did not hold; looking again.")),
                (again, lambda: resolve(again, ask_again=False)),
            ]  # fmt: skip
            closed = again + timedelta(days=rng.uniform(3, 7))
        if rng.random() < 0.7:  # the rest stay resolved until the customer confirms
            plan.append((closed, close(closed)))
        if not asks or silent:
            plan.pop(2)
        for at, step in plan[: steps if steps < 5 else None]:
            self.later(at, step)

    def _email(
        self,
        pk: int,
        template: dict[str, str],
        agent: Any,
        at: datetime,
        sent: list[TicketMessage],
    ) -> bool:
        """Email the customer from the ticket; False when their address cannot take it."""
        ticket = Ticket.objects.select_related("customer").get(pk=pk)
        customer = ticket.customer
        name = customer.name if customer.language == "zh-hans" else customer.name.split()[0]
        body = template[customer.language].format(name=name, agent=agent_name(agent))
        try:
            reply = ticket_reply(ticket_id=pk, body=body, actor=agent, now=at)
        except TicketError:
            return False
        sent.append(reply)
        # Sent at its replayed time, as the outbox task would have: a reply is contact only
        # once its email is accepted (feedback.tickets.contact).
        email = OutboundEmail.objects.get(message_id=reply.message_id)
        outbound_email_send(email_id=email.pk, now=at)
        return True

    def _customer_writes(
        self,
        pk: int,
        template: dict[str, str],
        order: str,
        sent: list[TicketMessage],
        at: datetime,
    ) -> None:
        """The customer answers the latest email of the conversation."""
        customer = Ticket.objects.select_related("customer").get(pk=pk).customer
        ticket_message_receive(
            ticket_id=pk,
            body=template[customer.language].format(order=order),
            from_email=customer.email,
            message_id=f"<reply.{pk}.{len(sent)}.{self.rng.getrandbits(40):010x}@mail.example>",
            in_reply_to=sent[-1].message_id if sent else "",
            now=at,
        )


# Shared saved replies for the demo's ticket page: two per language, plain text with the
# placeholders the picker fills in (feedback.tickets.saved_replies).
DEMO_SAVED_REPLIES: dict[str, list[tuple[str, str]]] = {
    "en": [
        (
            "Apology: late delivery",
            "Hello {customer_name},\n\nWe are sorry your order {order} arrived late. We have "
            "looked into it and will make sure it is put right.",
        ),
        (
            "Follow-up: did it help?",
            "Hello {customer_name},\n\nWe wanted to check that everything is now in order. "
            "If anything is still wrong, just reply to this email.",
        ),
    ],
    "ru": [
        (
            "Извинение: задержка доставки",
            "Здравствуйте, {customer_name}!\n\nПростите, что заказ {order} пришёл с опозданием. "
            "Мы во всём разобрались и проследим, чтобы это исправили.",
        ),
        (
            "Уточнение: всё в порядке?",
            "Здравствуйте, {customer_name}!\n\nХотим убедиться, что теперь всё в порядке. "
            "Если что-то не так, просто ответьте на это письмо.",
        ),
    ],
    "pl": [
        (
            "Przeprosiny: opóźniona dostawa",
            "Dzień dobry, {customer_name},\n\nprzepraszamy, że zamówienie {order} dotarło z "
            "opóźnieniem. Sprawdziliśmy, co się stało, i dopilnujemy, żeby to naprawić.",
        ),
        (
            "Kontakt: czy wszystko w porządku?",
            "Dzień dobry, {customer_name},\n\nchcemy się upewnić, że wszystko jest już w "
            "porządku. Jeśli coś nadal nie gra, wystarczy odpowiedzieć na tę wiadomość.",
        ),
    ],
    "zh-hans": [
        (
            "致歉：配送延误",
            "{customer_name}，您好！\n\n很抱歉您的订单 {order} 延迟送达。我们已经查明原因，"
            "会确保问题得到解决。",
        ),
        (
            "回访：问题解决了吗？",
            "{customer_name}，您好！\n\n想确认一下现在一切都正常了。如果还有问题，"
            "直接回复这封邮件即可。",
        ),
    ],
    "ar": [
        (
            "اعتذار: تأخر التوصيل",
            "مرحبًا {customer_name}،\n\nنعتذر عن تأخر وصول طلبك {order}. لقد تحققنا من الأمر "
            "وسنحرص على معالجته.",
        ),
        (
            "متابعة: هل حُلّت المشكلة؟",
            "مرحبًا {customer_name}،\n\nأردنا التأكد من أن كل شيء أصبح على ما يرام. إن بقيت "
            "أي مشكلة، فقط ردّ على هذه الرسالة.",
        ),
    ],
}


def demo_saved_replies_seed() -> int:
    """Create the demo's shared saved replies that are missing (by name and language);
    returns how many were created."""
    created = 0
    for language, replies in DEMO_SAVED_REPLIES.items():
        for name, body in replies:
            _, made = SavedReply.objects.get_or_create(
                name=name, language=language, owner=None, defaults={"body": body}
            )
            created += made
    return created
