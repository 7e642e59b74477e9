"""Emails to a customer about their ticket speak the customer's language: a staff reply says
"Re: <the survey email they answered>" in their words and is signed by the agent and the
company; the acknowledgement matches; the recovery follow-up survey has its own subject and
heading, not a copy of the first survey's."""

from __future__ import annotations

import pytest

from feedback.surveys.emails import render_invitation
from feedback.surveys.models import EmailKind, Invitation, InvitationPurpose, OutboundEmail
from feedback.tickets.emails import customer_thread
from feedback.tickets.services import (
    followup_invite,
    ticket_reply,
    ticket_resolve,
    ticket_sync_for_response,
)
from tests.factories import (
    CustomerFactory,
    ResponseFactory,
    RootCauseFactory,
    SurveyFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# The survey's own subject per language, as a company would write it.
SUBJECTS = {
    "en": "How was your order?",
    "ru": "Как вам ваш заказ?",
    "pl": "Jak oceniasz swoje zamówienie?",
    "zh-hans": "您对这次订单满意吗？",
    "ar": "ما رأيك في طلبك؟",
}
# The company signature line and the follow-up's words, per language (from locale/*.po).
CARE = {
    "en": "cxcrm customer care",
    "ru": "Служба заботы о клиентах cxcrm",
    "pl": "Obsługa klienta cxcrm",
    "zh-hans": "cxcrm 客户服务团队",
    "ar": "فريق خدمة العملاء في cxcrm",
}
FOLLOWUP_SUBJECT = {
    "en": "Did we put it right?",
    "ru": "Нам удалось всё исправить?",
    "pl": "Czy udało nam się to naprawić?",
    "zh-hans": "问题解决好了吗？",
    "ar": "هل أصلحنا الأمر؟",
}
FOLLOWUP_HEADING = {
    "en": "Thank you for telling us what went wrong",
    "ru": "Спасибо, что рассказали нам о проблеме",
    "pl": "Dziękujemy, że dałeś nam znać, co poszło nie tak",
    "zh-hans": "感谢您告诉我们哪里出了问题",
    "ar": "شكرًا لأنك أخبرتنا بما حدث من خطأ",
}
LANGUAGES = list(SUBJECTS)


def _ticket_from_answer(language: str, texts: dict | None = None):  # type: ignore[no-untyped-def]
    survey = SurveyFactory(
        texts=texts
        if texts is not None
        else {
            code: {"subject": subject, "intro": f"First survey intro ({code})"}
            for code, subject in SUBJECTS.items()
        },
        acknowledge_customer=True,
    )
    response = ResponseFactory(
        score=2,
        invitation__survey=survey,
        invitation__interaction__customer=CustomerFactory(language=language, name="Mei"),
    )
    return ticket_sync_for_response(response_id=response.pk).ticket


def _reply(ticket, actor) -> OutboundEmail:  # type: ignore[no-untyped-def]
    ticket_reply(ticket_id=ticket.pk, body="We have sent a new parcel.", actor=actor)
    return OutboundEmail.objects.filter(kind=EmailKind.TICKET_REPLY).latest("id")


@pytest.mark.parametrize("language", LANGUAGES)
def test_reply_is_re_the_survey_subject_in_the_customers_language_signed_by_the_agent(
    language: str,
) -> None:
    ticket = _ticket_from_answer(language)
    agent = UserFactory(username="lina", first_name="Lina", last_name="Berg")
    email = _reply(ticket, agent)
    assert email.subject == f"Re: {SUBJECTS[language]}"
    for body in (email.body_text, email.body_html):
        assert "We have sent a new parcel." in body
        assert "Lina Berg" in body
        assert CARE[language] in body
        assert "— lina" not in body and "admin" not in body
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in email.body_html


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_threads_with_the_same_subject_and_language(language: str) -> None:
    ticket = _ticket_from_answer(language)
    ack = OutboundEmail.objects.get(kind=EmailKind.ACKNOWLEDGEMENT, ticket=ticket)
    assert ack.subject == f"Re: {SUBJECTS[language]}"
    assert CARE[language] in ack.body_text and CARE[language] in ack.body_html
    assert ack.subject == _reply(ticket, UserFactory()).subject


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("en", "Re: How did we do?"),
        ("ru", "Re: Как мы справились?"),
        ("pl", "Re: Jak nam poszło?"),
        ("zh-hans", "Re: 我们做得怎么样？"),
        ("ar", "Re: كيف كان أداؤنا؟"),
        ("de", "Re: How did we do?"),  # no catalogue: English
    ],
)
def test_reply_to_a_survey_without_its_own_subject_uses_the_default_in_their_language(
    language: str, subject: str
) -> None:
    ticket = _ticket_from_answer(language, texts={"en": {"question": "Would you recommend us?"}})
    assert _reply(ticket, UserFactory()).subject == subject


def test_reply_to_a_ticket_without_an_answer_is_re_its_subject_once() -> None:
    customer = CustomerFactory(language="zh-hans")
    plain = TicketFactory(customer=customer, subject="Broken lid")
    assert _reply(plain, UserFactory()).subject == "Re: Broken lid"
    # A ticket opened from an emailed "Re: ..." does not become "Re: Re: ...".
    forwarded = TicketFactory(customer=customer, subject="RE: Re:  Where is my order?")
    assert _reply(forwarded, UserFactory()).subject == "Re: Where is my order?"
    assert customer_thread(forwarded)[0] == "zh-hans"


def test_reply_signature_falls_back_to_the_username_then_the_company() -> None:
    ticket = _ticket_from_answer("en")
    by_username = _reply(ticket, UserFactory(username="sam", first_name="", last_name=""))
    assert "sam\ncxcrm customer care" in by_username.body_text
    unsigned = _reply(ticket, None)
    assert unsigned.body_text.split("--\n")[1].strip() == "cxcrm customer care"


def test_reply_html_escapes_the_agents_name() -> None:
    ticket = _ticket_from_answer("en")
    email = _reply(ticket, UserFactory(first_name="<b>Al</b>", last_name=""))
    assert "&lt;b&gt;Al&lt;/b&gt;" in email.body_html and "<b>Al" not in email.body_html


def _followup(language: str) -> Invitation:
    ticket = _ticket_from_answer(language)
    ticket_resolve(ticket_id=ticket.pk, root_cause=RootCauseFactory(), send_followup=True)
    invitation = followup_invite(ticket=ticket) or Invitation.objects.get(
        ticket=ticket, purpose=InvitationPurpose.FOLLOWUP
    )
    return invitation


@pytest.mark.parametrize("language", LANGUAGES)
def test_followup_survey_has_its_own_subject_and_heading(language: str) -> None:
    invitation = _followup(language)
    first = render_invitation(invitation.ticket.response.invitation)
    rendered = render_invitation(invitation)
    assert rendered.subject == FOLLOWUP_SUBJECT[language] != first.subject
    for body in (rendered.text, rendered.html):
        assert FOLLOWUP_HEADING[language] in body
        assert f"First survey intro ({language})" not in body
    assert f"First survey intro ({language})" in first.text
    assert FOLLOWUP_HEADING[language] not in first.text
    reminder = render_invitation(invitation, reminder=True)
    assert FOLLOWUP_SUBJECT[language] in reminder.subject
    assert reminder.subject != rendered.subject


def test_reply_to_a_followup_answer_threads_under_the_followup_subject() -> None:
    invitation = _followup("ru")
    assert customer_thread(invitation.ticket)[1] == f"Re: {SUBJECTS['ru']}"
    later = ResponseFactory(invitation=invitation, score=3)
    reopened = TicketFactory(customer=invitation.customer, response=later)
    assert customer_thread(reopened) == ("ru", f"Re: {FOLLOWUP_SUBJECT['ru']}")
