"""The survey email and the survey page's scales on a phone, in Debian's Chromium: the email as
sent (caught by a real SMTP server) in every kind and language fits 320 and 390 px without
scrolling sideways, with score buttons big enough to tap; the page's scales leave no button
alone on a row."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from django.test import override_settings
from django.utils import timezone

from feedback.surveys.models import InvitationState
from feedback.surveys.services.dispatch import invitations_dispatch
from tests.browser import launch_browser, shot
from tests.factories import CustomerFactory, InvitationFactory, SurveyFactory
from tests.smtp import SmtpSink, smtp_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ru", "pl", "zh-hans", "ar"]
KINDS = ["nps", "csat", "ces"]
PHONES = [320, 390]

# Every score link's box, and how wide the document is (wider than the screen = it scrolls).
MEASURE = """() => ({
    scrollWidth: document.documentElement.scrollWidth,
    buttons: [...document.querySelectorAll('a[href*="?score="]')].map(a => {
        const box = a.getBoundingClientRect();
        return {score: a.textContent.trim(), width: box.width, height: box.height};
    }),
})"""

# The scale's buttons grouped into rows by where they sit on the screen.
ROWS = """(selector) => {
    const rows = new Map();
    for (const label of document.querySelectorAll(selector + " label")) {
        const top = Math.round(label.getBoundingClientRect().top);
        rows.set(top, (rows.get(top) || 0) + 1);
    }
    return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(entry => entry[1]);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch_browser()


def sent_emails() -> dict[tuple[str, str], str]:
    """One survey email of each kind in each language, sent through the dispatcher to a real
    SMTP server: the HTML part of each, keyed by (kind, language)."""
    surveys = {kind: SurveyFactory(kind=kind, texts={}) for kind in KINDS}
    wanted: dict[str, tuple[str, str]] = {}
    for kind, survey in surveys.items():
        for language in LANGUAGES:
            customer = CustomerFactory(language=language, name="Anna Kowalska")
            InvitationFactory(survey=survey, customer=customer, scheduled_for=timezone.now())
            wanted[customer.email.lower()] = (kind, language)
    with SmtpSink() as smtp, override_settings(**smtp_settings(smtp)):
        assert invitations_dispatch().sent == len(wanted)
        messages: list[EmailMessage] = list(smtp.messages)
    html = {}
    for message in messages:
        key = wanted[str(message["To"]).lower()]
        html[key] = message.get_body(("html",)).get_content()
    assert len(html) == len(wanted)
    return html


def test_the_survey_email_fits_a_phone_in_every_kind_and_language(browser) -> None:  # type: ignore[no-untyped-def]
    emails = sent_emails()
    problems = []
    for width in PHONES:
        context = browser.new_context(viewport={"width": width, "height": 844})
        tab = context.new_page()
        for (kind, language), html in emails.items():
            # The email is self-contained (no external assets): set_content is what a mail
            # app's web view does with it.
            tab.set_content(html, wait_until="load")
            measured = tab.evaluate(MEASURE)
            expected = {"nps": 11, "csat": 5, "ces": 7}[kind]
            if len(measured["buttons"]) != expected:
                problems.append((kind, language, width, "buttons", len(measured["buttons"])))
            if measured["scrollWidth"] > width:
                problems.append((kind, language, width, "scrollWidth", measured["scrollWidth"]))
            small = [b for b in measured["buttons"] if b["width"] < 32 or b["height"] < 32]
            if small:
                problems.append((kind, language, width, "small buttons", small))
            if kind == "nps" and width == 390:
                shot(tab, f"email-{language}-390")
        context.close()
    assert problems == []


def test_survey_page_scales_leave_no_button_alone_on_a_row(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 320, "height": 844})
    tab = context.new_page()
    # Expected rows at 320 / 390 / 1366 px wide.
    cases = {
        "ces": {320: [4, 3], 390: [7], 1366: [7]},
        "nps": {320: [6, 5], 390: [6, 5], 1366: [11]},
    }
    for kind, rows_by_width in cases.items():
        invitation = InvitationFactory(
            survey=SurveyFactory(kind=kind, texts={}),
            customer=CustomerFactory(language="ar" if kind == "nps" else "pl"),
            state=InvitationState.SENT,
            sent_at=timezone.now(),
        )
        tab.set_viewport_size({"width": 320, "height": 844})
        tab.goto(f"{live_server.url}/s/{invitation.token}/")
        for width, expected in rows_by_width.items():
            tab.set_viewport_size({"width": width, "height": 844})
            assert tab.evaluate(ROWS, ".scale") == expected, (kind, width)
            assert tab.evaluate("document.documentElement.scrollWidth") <= width
            # Both end labels are shown, the low one before 0/1 and the high one after 10/7.
            low = tab.locator("#anchors-low")
            high = tab.locator("#anchors-high")
            assert low.is_visible() and high.is_visible()
            first = tab.locator(".scale label").first.bounding_box()
            last = tab.locator(".scale label").last.bounding_box()
            low_box, high_box = low.bounding_box(), high.bounding_box()
            assert low_box["x"] <= first["x"] + first["width"] / 2  # near the low end
            assert high_box["x"] + high_box["width"] >= last["x"] + last["width"] / 2
            shot(tab, f"survey-scale-{kind}-{width}")
    context.close()
