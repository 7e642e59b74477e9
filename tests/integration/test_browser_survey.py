"""The customer's side in a real browser: Debian's Chromium driven by Playwright against a live
server, with the survey email caught by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.utils import timezone

from feedback.surveys.models import InvitationState, Response, ResponseChannel
from feedback.surveys.services.dispatch import invitations_dispatch
from tests.browser import launch_browser, shot
from tests.factories import CustomerFactory, InvitationFactory, SurveyFactory
from tests.smtp import SmtpSink, smtp_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch_browser()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    tab = context.new_page()
    yield tab
    context.close()


def score_link(message, score: int) -> str:  # type: ignore[no-untyped-def]
    html = message.get_body(("html",)).get_content()
    links = re.findall(r'href="([^"]+\?score=' + str(score) + r')"', html)
    assert len(links) == 1, links
    return links[0].replace("&amp;", "&")


def test_click_in_a_real_email_records_exactly_one_answer_then_the_comment(
    live_server, page
) -> None:  # type: ignore[no-untyped-def]
    survey = SurveyFactory(
        kind="nps",
        texts={"en": {"subject": "How was your order?", "question": "Would you recommend us?"}},
    )
    invitation = InvitationFactory(survey=survey, scheduled_for=timezone.now())
    with SmtpSink() as smtp, override_settings(SITE_URL=live_server.url, **smtp_settings(smtp)):
        assert invitations_dispatch().sent == 1
        [email] = smtp.messages
    link = score_link(email, 3)
    assert link.startswith(live_server.url)

    page.goto(link)
    # The script posts the preselected score; the follow-up question is the next page.
    page.wait_for_url(re.compile(r"step=followup"))
    assert page.get_by_text("What went wrong?").is_visible()
    responses = list(Response.objects.all())
    assert len(responses) == 1
    assert (responses[0].score, responses[0].channel) == (3, ResponseChannel.EMAIL_CLICK)
    shot(page, "survey-followup-en")

    page.fill("#id_comment", "The courier left the parcel in the rain.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(re.compile(r"/thanks/"))
    assert page.get_by_role("heading", name="Thank you for your feedback").is_visible()
    shot(page, "survey-thanks-en")

    # Going back to the email and clicking again does not make a second answer.
    page.goto(link)
    page.wait_for_load_state("networkidle")
    response = Response.objects.get()
    assert response.comment == "The courier left the parcel in the rain."
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.RESPONDED


def test_without_javascript_one_button_records_the_answer(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    invitation = InvitationFactory(state=InvitationState.SENT, sent_at=timezone.now())
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{live_server.url}/s/{invitation.token}/?score=8")
    tab.wait_for_load_state("load")
    assert not Response.objects.exists()  # opening the link recorded nothing
    assert tab.locator("#id_score_8").is_checked()
    shot(tab, "survey-score-nojs")
    tab.get_by_role("button", name="Send my answer").click()
    tab.wait_for_url(re.compile(r"step=followup"))
    assert Response.objects.get().score == 8
    context.close()


def test_arabic_page_is_laid_out_right_to_left(live_server, page) -> None:  # type: ignore[no-untyped-def]
    survey = SurveyFactory(kind="csat", texts={"ar": {"question": "ما مدى رضاك عن طلبك؟"}})
    invitation = InvitationFactory(
        survey=survey,
        customer=CustomerFactory(language="ar"),
        state=InvitationState.SENT,
        sent_at=timezone.now(),
    )
    page.goto(f"{live_server.url}/s/{invitation.token}/")
    direction = page.evaluate("getComputedStyle(document.documentElement).direction")
    assert direction == "rtl"
    assert page.get_by_role("heading", name="ما مدى رضاك عن طلبك؟").is_visible()
    # Where the text itself sits (a Range, not the block box): right-to-left, it hugs the
    # card's right edge, not its left.
    gaps = page.evaluate(
        """() => {
            const h1 = document.querySelector("h1");
            const range = document.createRange();
            range.selectNodeContents(h1);
            const text = range.getBoundingClientRect();
            const card = document.querySelector(".card").getBoundingClientRect();
            return {left: text.left - card.left, right: card.right - text.right};
        }"""
    )
    assert gaps["right"] < gaps["left"], gaps
    shot(page, "survey-score-ar")
