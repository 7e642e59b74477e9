"""The direct MIME writer produces what Django's would, for the shapes it accepts."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives

from feedback.emails import build_invitation_message, new_message_id, render_invitation
from feedback.mailer import fast_mime
from tests.factories import CustomerFactory, InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": {"subject": "How did we do?", "question": "Would you recommend us?"},
    "zh-hans": {"subject": "我们做得怎么样？", "question": "您会推荐我们吗？"},
    "ar": {"subject": "كيف كان أداؤنا؟ " * 6, "question": "هل توصي بنا؟"},
}


def parsed(data: bytes):  # type: ignore[no-untyped-def]
    return message_from_bytes(data, policy=policy.default)


def comparable(message):  # type: ignore[no-untyped-def]
    # Django folds long headers onto a continuation line; parsed, that leaves a leading space.
    headers = {k: str(v).strip() for k, v in message.items() if k not in ("Date", "Content-Type")}
    bodies = [
        (part.get_content_type(), part.get_content_charset(), part.get_content())
        for part in message.iter_parts()
    ]
    return headers, message.get_content_type(), bodies


@pytest.mark.parametrize("language", ["en", "zh-hans", "ar"])
def test_survey_email_matches_djangos_serialisation(language: str) -> None:
    survey = SurveyFactory(texts=TEXTS)
    customer = CustomerFactory(language=language, name="Zoë <O'Brien> & Sons")
    invitation = InvitationFactory(survey=survey, customer=customer)
    message = build_invitation_message(
        invitation, render_invitation(invitation), message_id=new_message_id(), kind="survey"
    )
    fast = fast_mime(message)
    assert fast is not None
    django_bytes = message.message().as_bytes(linesep="\r\n")
    assert comparable(parsed(fast)) == comparable(parsed(django_bytes))
    assert b"\r\n" in fast and b"\n" not in fast.replace(b"\r\n", b"")
    assert parsed(fast)["Date"]  # a Date header is always present


def test_other_shapes_take_djangos_path() -> None:
    plain = EmailMessage("s", "body", "a@example.com", ["b@example.com"])
    assert fast_mime(plain) is None
    two = EmailMultiAlternatives("s", "body", "a@example.com", ["b@example.com", "c@example.com"])
    two.attach_alternative("<p>x</p>", "text/html")
    assert fast_mime(two) is None
    long_line = EmailMultiAlternatives("s", "x" * 1200, "a@example.com", ["b@example.com"])
    long_line.attach_alternative("<p>x</p>", "text/html")
    assert fast_mime(long_line) is None
    attached = EmailMultiAlternatives("s", "b", "a@example.com", ["b@example.com"])
    attached.attach_alternative("<p>x</p>", "text/html")
    attached.attach("a.txt", "hello", "text/plain")
    assert fast_mime(attached) is None
