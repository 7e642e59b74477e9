"""The back-office in each staff language (issue 19), in a real browser after `seed_demo`: the
triage queue, a ticket's workspace and the dashboard, for a staff member who chose Russian,
Polish, Chinese, Arabic or English on their preferences page.

"No English left" is checked against our own catalogue: every English message of ours with at
least two words that the English page shows must be gone from the same page in another
language, and so must the single-word labels listed below. What customers and staff wrote
(comments, names, subjects: marked `dir="auto"` or `<bdi>` by the templates) and data such as
touchpoint names are taken out of the page's text first. Arabic pages are right to left.
Screenshots at a laptop's and a phone's size go to var/screenshots/ (copies in docs/screenshots/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from cxcrm.models import StaffPreference
from feedback.tickets.models import Ticket
from tests.browser import launch_browser, shot
from tests.factories import UserFactory
from touchpoints.models import Touchpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES" / "django.po"
LANGUAGES = ("ru", "pl", "zh-hans", "ar")
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# Single words of ours the three pages show (one-word messages are not taken from the catalogue:
# they collide with data, e.g. a touchpoint called "Delivery").
OUR_WORDS = ("Reply", "Resolve", "Priority", "Assignee", "Overdue", "Unassigned", "Detractors")
# Names every language writes the same way.
NAMES = {"NPS", "CSAT", "CES", "Net Promoter Score"}

# The page's visible text without what people wrote and without data cells: elements the
# templates isolate (dir="auto", <bdi>) or mark as data (data-cx-data).
VISIBLE_UI_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[dir=auto], bdi, [data-cx-data], script, style, template')
      .forEach(e => e.remove());
  const holder = document.createElement('div');
  holder.style.position = 'absolute'; holder.style.left = '-99999px';
  holder.appendChild(copy); document.documentElement.appendChild(holder);
  const text = copy.innerText; holder.remove(); return text;
}"""


def _english_messages() -> list[str]:
    """Our English messages of two words or more, placeholders cut out (the longest
    placeholder-free run of each)."""
    found = set()
    for entry in polib.pofile(str(CATALOGUE)):
        for text in (entry.msgid, entry.msgid_plural):
            if not text:
                continue
            plain = re.sub(r"<[^>]+>", " ", text)
            for run in re.split(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}", plain):
                run = " ".join(run.split()).strip(" .,:;()-–—")
                # Two words or more, at least one of them a word (not "n =" or "NPS (0–10").
                if len(run.split()) >= 2 and re.search(r"[a-z]{2}", run) and run not in NAMES:
                    found.add(run)
    return sorted(found, key=len, reverse=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


def _tab(browser: Any, live_server: Any, user: Any, viewport: dict[str, int]) -> Any:
    client = Client()
    client.force_login(user)  # signing in copies the chosen language into the session
    context = browser.new_context(viewport=viewport)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def _pages(ticket: Ticket) -> dict[str, str]:
    return {
        "queue": "/admin/queue/",
        "workspace": f"/admin/feedback/ticket/{ticket.pk}/change/",
        "dashboard": "/admin/dashboard/",
    }


def _ui_text(tab: Any) -> str:
    return " ".join(tab.evaluate(VISIBLE_UI_TEXT).split())


def test_queue_workspace_and_dashboard_in_every_staff_language(
    browser: Any, live_server: Any
) -> None:
    call_command("seed_demo", "--seed", "7", "--size", "tiny", "--no-progress", verbosity=0)
    ticket = Ticket.objects.filter(response__isnull=False).order_by("-pk").first()
    assert ticket is not None
    user = UserFactory(username="lead", email="lead@cx.example", is_superuser=True, password=None)
    pages = _pages(ticket)
    # Data that is named like one of our messages (a touchpoint called "Mobile app", like the
    # channel) is not a message left in English.
    data = set(Touchpoint.objects.values_list("name", flat=True))
    messages = [m for m in _english_messages() if m not in data]

    # The English pages: which of our messages they show.
    shown: dict[str, list[str]] = {}
    context = _tab(browser, live_server, user, LAPTOP)
    tab = context.new_page()
    for name, path in pages.items():
        tab.goto(f"{live_server.url}{path}")
        assert tab.locator("html").get_attribute("lang") == "en", name
        text = _ui_text(tab)
        shown[name] = [m for m in messages if m in text]
        assert len(shown[name]) >= 5, (name, shown[name])  # the check has something to check
    context.close()

    left: dict[str, list[str]] = {}
    for language in LANGUAGES:
        StaffPreference.objects.update_or_create(user=user, defaults={"language": language})
        for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
            context = _tab(browser, live_server, user, viewport)
            tab = context.new_page()
            for name, path in pages.items():
                tab.goto(f"{live_server.url}{path}")
                html = tab.locator("html")
                assert html.get_attribute("lang") == language, (language, name)
                assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
                shot(tab, f"backoffice-{name}-{language}-{size}")
                if size == "phone":
                    continue
                text = _ui_text(tab)
                english = [m for m in shown[name] if m in text]
                english += [w for w in OUR_WORDS if re.search(rf"\b{w}\b", text)]
                if english:
                    left[f"{language} {name}"] = english
            context.close()
    assert left == {}, left
