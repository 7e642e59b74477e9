"""Names and subjects never lose email: control characters are refused at every input (the API,
the admin's forms; CSV import is in test_csv.py) by the one rule in cxcrm.text, and stored text
that predates the rule is cleaned where a header is built."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory, override_settings

from customers.models import Customer
from cxcrm.text import control_character_error, header_text, multi_line, single_line
from feedback.surveys.emails import render_invitation
from feedback.surveys.models import EmailKind, EmailStatus, OutboundEmail, Survey
from feedback.surveys.services.outbox import outbound_email_queue
from feedback.surveys.services.sending import outbound_email_send
from feedback.tickets.models import Ticket
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    SurveyFactory,
    TicketFactory,
    TouchpointFactory,
)
from touchpoints.models import Interaction, Touchpoint

pytestmark = pytest.mark.django_db

INJECTION = "Ann\r\nBcc: x@evil.example"
REFUSED = [
    "a\rb",
    "a\nb",
    "a\tb",
    "a\x00b",
    "a\x1bb",
    "a\x7fb",
    "a\x85b",
    "a\u2028b",
    "a\u2029b",
]


# --- The rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", REFUSED)
def test_single_line_text_refuses_every_control_character(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        single_line(value)
    assert raised.value.code == "control_character"
    assert "only printable characters" in raised.value.messages[0]


@pytest.mark.parametrize("value", ["Ann O'Neil", "Анна", "王芳", "آنا", "Zoë 😀", ""])
def test_single_line_text_keeps_every_printable_name(value: str) -> None:
    single_line(value)
    assert control_character_error(value) == ""


def test_multi_line_text_keeps_tab_and_line_breaks_only() -> None:
    multi_line("Hello,\r\n\tthanks.\n")
    for value in ("a\x00b", "a\x1bb", "a\x7fb"):
        with pytest.raises(ValidationError):
            multi_line(value)


def test_the_message_names_the_character() -> None:
    assert "carriage return (CR)" in control_character_error("a\rb")
    assert "line break (LF)" in control_character_error("a\nb")
    assert "U+2028" in control_character_error("a\u2028b")


def test_header_text_turns_any_run_of_breaks_into_one_space() -> None:
    assert header_text(INJECTION) == "Ann Bcc: x@evil.example"
    assert header_text("\n Ann\u2028\u2029Lee \r") == "Ann Lee"
    assert header_text("Zoë 王芳") == "Zoë 王芳"


# --- API: a 400 naming the field ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/customers/", {"external_id": "c-1", "name": INJECTION}, "name"),
        ("/api/v1/customers/", {"external_id": "c\n1"}, "external_id"),
        ("/api/v1/customers/", {"external_id": "c-1", "phone": "+1\u20285"}, "phone"),
        ("/api/v1/customers/", {"external_id": "c-1", "segment": "vip\x07"}, "segment"),
        ("/api/v1/customers/", {"external_id": "c-1", "tags": ["ok", "b\rad"]}, "tags"),
        ("/api/v1/tickets/", {"customer_external_id": "c-0", "subject": INJECTION}, "subject"),
        (
            "/api/v1/interactions/",
            {
                "source": "shop",
                "external_id": "o-1\r\nX: y",
                "customer_external_id": "c-0",
                "touchpoint": "checkout",
                "occurred_at": "2026-01-01T10:00:00Z",
            },
            "external_id",
        ),
        (
            "/api/v1/interactions/",
            {
                "source": "shop",
                "external_id": "o-1",
                "customer_external_id": "c-0",
                "touchpoint": "checkout",
                "occurred_at": "2026-01-01T10:00:00Z",
                "order_ref": "A\x1b[31m",
            },
            "order_ref",
        ),
    ],
    ids=[
        "customer-name",
        "customer-external-id",
        "customer-phone",
        "customer-segment",
        "customer-tag",
        "ticket-subject",
        "interaction-external-id",
        "interaction-order-ref",
    ],
)
def test_api_refuses_control_characters_naming_the_field(
    write_client: Any, url: str, body: dict[str, Any], field: str
) -> None:
    CustomerFactory(external_id="c-0")
    TouchpointFactory(slug="checkout")
    before = (Customer.objects.count(), Ticket.objects.count(), Interaction.objects.count())

    reply = write_client.post(url, body, format="json")

    assert reply.status_code == 400, reply.content
    assert reply["Content-Type"].startswith("application/json")
    errors = reply.json()
    assert field in errors, errors
    assert "only printable characters" in str(errors[field])
    after = (Customer.objects.count(), Ticket.objects.count(), Interaction.objects.count())
    assert after == before


def test_api_bodies_keep_line_breaks_and_refuse_other_controls(write_client: Any) -> None:
    ticket = TicketFactory()
    url = f"/api/v1/tickets/{ticket.pk}/messages/"

    kept = write_client.post(
        url, {"kind": "note", "body": "Called.\r\n\tNo answer."}, format="json"
    )
    refused = write_client.post(url, {"kind": "note", "body": "Called\x1b[2J."}, format="json")

    assert kept.status_code == 201, kept.content
    assert refused.status_code == 400
    assert "U+001B" in str(refused.json()["body"])


def test_the_api_schema_publishes_the_rule_as_a_pattern(read_client: Any) -> None:
    schema = read_client.get("/api/schema/", {"format": "json"}).json()
    customer = schema["components"]["schemas"]["CustomerUpsertRequest"]["properties"]

    pattern = customer["external_id"]["pattern"]

    assert re.fullmatch(pattern, "Zoë 王芳")
    assert not re.search(pattern, INJECTION)
    assert not re.search(pattern, "a\u2028b")


# --- Admin forms -------------------------------------------------------------------------------


def test_admin_customer_form_refuses_a_name_with_a_line_break(admin_client: Client) -> None:
    page = admin_client.post(
        "/admin/customers/customer/add/",
        {"external_id": "c-1", "email": "ann@example.com", "name": INJECTION, "language": "en"},
    )

    assert page.status_code == 200  # the form again, with its error
    errors = page.context["adminform"].form.errors
    assert list(errors) == ["name"]
    assert "carriage return (CR)" in errors["name"][0]
    assert not Customer.objects.exists()


def _admin_form(model: type, superuser: Any, data: dict[str, Any]) -> Any:
    request = RequestFactory().post("/")
    request.user = superuser
    form_class = admin.site.get_model_admin(model).get_form(request)
    return form_class(data=data)


def test_admin_ticket_form_refuses_a_subject_with_a_line_break(superuser: Any) -> None:
    customer = CustomerFactory()
    form = _admin_form(
        Ticket,
        superuser,
        {
            "customer": customer.pk,
            "subject": "Refund\nBcc: x@evil.example",
            "status": "new",
            "priority": "2",
            "source": "staff",
            "due_at_0": "2026-12-31",
            "due_at_1": "10:00",
        },
    )

    assert not form.is_valid()
    assert "line break (LF)" in form.errors["subject"][0]


def test_admin_touchpoint_form_refuses_a_name_with_a_separator(superuser: Any) -> None:
    form = _admin_form(
        Touchpoint,
        superuser,
        {
            "name": "Checkout\u2028X",
            "slug": "checkout",
            "stage": "order",
            "channel": "web",
            "ownership": "brand",
            "active": "on",
        },
    )

    assert not form.is_valid()
    assert "U+2028" in form.errors["name"][0]


def test_admin_survey_form_refuses_a_subject_with_a_line_break(superuser: Any) -> None:
    survey = SurveyFactory(texts={"en": {"subject": "How did we do?"}})
    survey.texts = {"en": {"subject": "How did we do?"}, "pl": {"subject": "Jak\r\nBcc: x"}}

    with pytest.raises(ValidationError) as raised:
        survey.clean()

    messages = raised.value.message_dict["texts"]
    assert any("pl.subject: Contains a carriage return (CR)" in m for m in messages)


# --- Older data: the header is cleaned, the email goes -----------------------------------------


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_a_queued_subject_is_cleaned_when_queued_and_when_sent() -> None:
    email = outbound_email_queue(
        to="ann@example.com",
        subject=f"[Acme] #1 NPS 0 from {INJECTION}",
        text="hi",
        kind=EmailKind.ALERT,
        headers={"In-Reply-To": "<a@b>\r\nBcc: x@evil.example"},
    )
    assert email.subject == "[Acme] #1 NPS 0 from Ann Bcc: x@evil.example"
    # A row queued before the rule, as it was stored then.
    OutboundEmail.objects.filter(pk=email.pk).update(subject=f"Re: {INJECTION}")
    email.refresh_from_db()

    outbound_email_send(email_id=email.pk)

    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    [sent] = mail.outbox
    mime = sent.message()  # Django's BadHeaderError would surface here
    assert mime["Subject"] == "Re: Ann Bcc: x@evil.example"
    assert mime["Bcc"] is None
    assert mime["In-Reply-To"] == "<a@b> Bcc: x@evil.example"


def test_a_survey_subject_stored_with_a_line_break_renders_on_one_line() -> None:
    survey = SurveyFactory(texts={"en": {"subject": "How was it?\r\nBcc: x@evil.example"}})
    Survey.objects.filter(pk=survey.pk).update(texts=survey.texts)  # no clean(): older data
    invitation = InvitationFactory(survey=survey, customer__name=INJECTION)

    rendered = render_invitation(invitation)

    assert rendered.subject == "How was it? Bcc: x@evil.example"
