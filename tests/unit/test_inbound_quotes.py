"""Reply-quote lines in every supported language (en, ru, pl, zh, ar) and the clients that
write them (Gmail, Outlook, Apple Mail, Thunderbird): the new text is kept, the quote and its
reply+<token> address are not. Each case is the line as the client writes it, wrapped where
the client wraps it, with the direction marks Gmail puts around Arabic."""

from __future__ import annotations

from typing import Any

import pytest

from feedback.inbound import parsing as inbound
from feedback.inbound.models import InboundEmail, InboundStatus
from feedback.tickets.models import TicketMessage
from tests.factories import TicketFactory
from tests.unit.test_inbound import (  # noqa: F401 - the fixture is used by name
    DOMAIN,
    TOKEN,
    answered_invitation,
    eml,
    inbound_settings,
    via_service,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ADDRESS = f"reply+{TOKEN}@{DOMAIN}"
RLM = "\u200f"
QUOTE = f"> How likely are you to recommend Acme?\n> Reply to {ADDRESS}\n"

# (language, client): (the customer's new text, the quote header as the client writes it)
HEADERS: dict[tuple[str, str], tuple[str, str]] = {
    ("en", "gmail"): ("Great.", f"On Sun, 22 Nov 2026 at 10:00, Acme <{ADDRESS}>wrote:"),
    ("en", "gmail-wrapped"): ("Great.", f"On Sun, 22 Nov 2026 at 10:00, Acme <\n{ADDRESS}> wrote:"),
    ("ru", "gmail"): ("Отлично.", f"вс, 22 нояб. 2026 г. в 10:00, Acme <{ADDRESS}>:"),
    ("ru", "gmail-wrapped"): ("Отлично.", f"вс, 22 нояб. 2026 г. в 10:00, Acme <\n{ADDRESS}>:"),
    ("pl", "gmail"): ("Super.", f"W dniu nd., 22.11.2026 o 10:00 Acme <{ADDRESS}> napisał(a):"),
    ("pl", "gmail-pisze"): ("Super.", f"W dniu 22.11.2026 o 10:00, Acme <{ADDRESS}> pisze:"),
    ("zh", "gmail"): ("很好。", f"Acme <{ADDRESS}> 于2026年11月22日周日 10:00写道："),
    ("ar", "gmail"): ("ممتاز.", f"في الأحد، 22 نوفمبر 2026 10:00 ص، كتب Acme <{ADDRESS}>:"),
    ("ar", "gmail-marked"): (
        "ممتاز.",
        f"{RLM}في الأحد، 22 نوفمبر 2026 10:00 ص، كتب Acme <{RLM}\n{ADDRESS}{RLM}>:{RLM}",
    ),
    ("en", "outlook"): (
        "Great.",
        f"From: Acme <{ADDRESS}>\nSent: Sunday, November 22, 2026 10:00 AM\nTo: Jane\n"
        "Subject: How did we do?",
    ),
    ("en", "outlook-original"): ("Great.", "-----Original Message-----\nFrom: Acme"),
    ("ru", "outlook"): (
        "Отлично.",
        f"От: Acme <{ADDRESS}>\nОтправлено: 22 ноября 2026 г. 10:00\nКому: Иван\n"
        "Тема: Как мы справились?",
    ),
    ("ru", "outlook-original"): ("Отлично.", "-----Исходное сообщение-----\nОт: Acme"),
    ("pl", "outlook"): (
        "Super.",
        f"Od: Acme <{ADDRESS}>\nWysłane: niedziela, 22 listopada 2026 10:00\nDo: Jan\n"
        "Temat: Jak nam poszło?",
    ),
    ("pl", "outlook-original"): ("Super.", "-----Oryginalna wiadomość-----\nOd: Acme"),
    ("zh", "outlook"): (
        "很好。",
        f"发件人: Acme <{ADDRESS}>\n发送时间: 2026年11月22日 10:00\n收件人: 王\n"
        "主题: 我们做得如何？",
    ),
    ("zh", "outlook-original"): ("很好。", "-----原始邮件-----\n发件人: Acme"),
    ("ar", "outlook"): (
        "ممتاز.",
        f"من: Acme <{ADDRESS}>\nتم الإرسال: الأحد، 22 نوفمبر 2026 10:00 ص\nإلى: أحمد\n"
        "الموضوع: كيف كان أداؤنا؟",
    ),
    ("ar", "outlook-original"): ("ممتاز.", "-----الرسالة الأصلية-----\nمن: Acme"),
    ("en", "apple"): ("Great.", f"On 22 Nov 2026, at 10:00, Acme <{ADDRESS}> wrote:"),
    ("ru", "apple"): ("Отлично.", f"22 нояб. 2026 г., в 10:00, Acme <{ADDRESS}> написал(а):"),
    ("pl", "apple"): ("Super.", f"22.11.2026 o godz. 10:00 Acme <{ADDRESS}> napisał(a):"),
    ("pl", "apple-przez"): (
        "Super.",
        f"Wiadomość napisana przez Acme <{ADDRESS}> w dniu 22.11.2026, o godz. 10:00:",
    ),
    ("zh", "apple"): ("很好。", f"2026年11月22日 10:00，Acme <{ADDRESS}> 写道："),
    ("ar", "apple"): ("ممتاز.", f"في 22 نوفمبر 2026، في 10:00 ص، كتب Acme <{ADDRESS}>:"),
    ("en", "thunderbird"): ("Great.", "On 22/11/2026 10:00, Acme wrote:"),
    ("ru", "thunderbird"): ("Отлично.", "22.11.2026 10:00, Acme пишет:"),
    ("pl", "thunderbird"): ("Super.", "W dniu 22.11.2026 o 10:00, Acme pisze:"),
    ("zh", "thunderbird"): ("很好。", "在 2026/11/22 10:00, Acme 写道:"),
    ("ar", "thunderbird"): ("ممتاز.", "في 22/11/2026 10:00، كتب Acme:"),
}


@pytest.mark.parametrize(("language", "client"), sorted(HEADERS), ids="-".join)
def test_the_quote_header_is_recognised(language: str, client: str) -> None:
    wanted, header = HEADERS[(language, client)]
    body = f"{wanted}\n\n{header}\n\n{QUOTE}"
    text = inbound.new_text(body)
    assert text == wanted
    if "outlook" not in client:  # Outlook never posts under the quote
        # Bottom posting: the same header, the answer under the quote.
        assert inbound.new_text(f"{header}\n{QUOTE}\n{wanted}\n") == wanted


@pytest.mark.parametrize(
    "body",
    [
        # A customer's own lines that end in a colon, with dates and times, stay.
        "The courier wrote this on 22.11.2026 at 10:00:\nLeft at the door.",
        "كتب لي المندوب ما يلي:\nتركت الطرد عند الباب.",
        "Курьер написал 22 ноября в 10:00:\nоставил у двери.",
    ],
)
def test_the_customers_own_colon_lines_are_kept(body: str) -> None:
    assert inbound.new_text(body) == body


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("gmail_reply_ru.eml", "Курьер был вежлив, но коробка пришла мятой."),
        ("gmail_reply_ar.eml", "وصل الطلب سليماً لكن متأخراً يومين."),
    ],
)
def test_russian_and_arabic_gmail_replies_store_no_token(name: str, wanted: str) -> None:
    response = answered_invitation()
    row = via_service(eml(name))
    assert row.status == InboundStatus.MATCHED_RESPONSE, row.note
    response.refresh_from_db()
    assert response.comment == wanted
    assert InboundEmail.objects.get().text == wanted


def test_a_token_address_that_slips_through_is_removed_everywhere() -> None:
    # No quote header at all (an unknown client): the address is in the new text itself.
    response = answered_invitation()
    ticket = TicketFactory(response=response, customer=response.customer)
    raw = eml("gmail_reply_ru.eml").replace(
        "Курьер был вежлив".encode(), f"Пишу на {ADDRESS} и unsubscribe+{TOKEN}@{DOMAIN}".encode()
    )
    row = via_service(raw)
    assert row.status == InboundStatus.MATCHED_TICKET
    stored = [InboundEmail.objects.get().text, TicketMessage.objects.get(ticket=ticket).body]
    for text in stored:
        assert "Пишу на [address removed] и [address removed]" in text
    for text in [*stored, InboundEmail.objects.get().note]:
        assert "reply+" not in text.lower() and "unsubscribe+" not in text.lower()


def test_an_earlier_comment_holding_a_token_is_scrubbed_when_appended(settings: Any) -> None:
    response = answered_invitation(comment=f"old text {ADDRESS}")
    via_service(eml("gmail_reply_ru.eml"))
    response.refresh_from_db()
    assert "reply+" not in response.comment
    assert response.comment.startswith("old text [address removed]")
