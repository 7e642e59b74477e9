"""The API docs in a real browser (Debian's Chromium via Playwright, against a live server):
Swagger UI's "Try it out" records the documented purchase against `seed_demo`'s data; ReDoc's
search works under our CSP; no docs page asks anything of another origin or breaks the CSP;
screenshots of each page at a desk's and a phone's size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from cxcrm.api.keys import api_key_create
from cxcrm.roles import MANAGER, roles_sync
from tests.browser import launch_browser, shot
from tests.factories import UserFactory
from touchpoints.models import Interaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# Generous bounds for a busy 2-core machine: each waits on something visible, not on time.
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


class Watched:
    """A page with every request it makes and every console message it logs."""

    def __init__(self, browser: Any, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.tab = self.context.new_page()
        self.requests: list[str] = []
        self.console: list[str] = []
        self.tab.on("request", lambda request: self.requests.append(request.url))
        self.tab.on("console", lambda message: self.console.append(message.text))

    def foreign(self, origin: str) -> list[str]:
        # blob: URLs of our own origin are the page's own (ReDoc's search worker).
        return [
            url
            for url in self.requests
            if not (url.startswith(f"{origin}/") or url.startswith(f"blob:{origin}/"))
        ]

    def csp_violations(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    opened: list[Watched] = []

    def open_page(viewport: dict[str, int] = DESK) -> Watched:
        opened.append(Watched(browser, viewport))
        return opened[-1]

    yield open_page
    for page in opened:
        page.context.close()


def sign_in_as_manager(page: Watched, origin: str) -> None:
    roles_sync()  # a transactional test may follow one that flushed the groups
    manager = UserFactory(username="mira", email="mira@cx.example")
    manager.groups.add(Group.objects.get(name=MANAGER))
    page.tab.goto(f"{origin}/accounts/login/")
    page.tab.fill("input[name=login]", "mira@cx.example")
    page.tab.fill("input[name=password]", PASSWORD)
    page.tab.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    page.tab.wait_for_load_state("load")


def test_swagger_try_it_out_records_the_documented_purchase(live_server: Any, watched) -> None:  # type: ignore[no-untyped-def]
    call_command("seed_demo", "--seed", "42", "--size", "tiny", "--no-progress", verbosity=0)
    key = api_key_create(name="swagger", scopes="read,write").key
    page = watched()
    sign_in_as_manager(page, live_server.url)
    tab = page.tab

    tab.goto(f"{live_server.url}/api/docs/")
    # Authorize with the key (a Manager's session may not push interactions: Admins only).
    tab.get_by_role("button", name=re.compile("Authorize", re.I)).first.click()
    bearer = tab.locator("#auth-bearer-value")
    bearer.fill(key)
    bearer.locator("xpath=ancestor::form[1]").locator("button.authorize").click()
    tab.locator(".modal-ux button.btn-done").first.click()

    operation = tab.locator("#operations-interactions-interactions_create")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    body = operation.locator("textarea.body-param__text")
    assert '"customer_external_id": "demo-cust-0001"' in body.input_value()
    operation.get_by_role("button", name="Execute").click()

    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=WAIT_MS)
    assert status.inner_text().strip().startswith("201")
    purchase = Interaction.objects.get(source="shop", external_id="order-20461")
    assert purchase.customer.external_id == "demo-cust-0001"
    assert purchase.touchpoint.slug == "checkout" and purchase.currency == "EUR"
    assert page.foreign(live_server.url) == []
    assert page.csp_violations() == []


def test_redoc_searches_offline_under_the_csp(live_server: Any, watched) -> None:  # type: ignore[no-untyped-def]
    phone = watched(PHONE)
    phone.tab.goto(f"{live_server.url}/api/redoc/")
    phone.tab.get_by_role("heading", name=re.compile("cxcrm API")).wait_for(timeout=WAIT_MS)
    shot(phone.tab, "redoc-phone")

    # Search (in the sidebar, shown at a desk's width) runs in a worker started from a blob.
    page = watched(DESK)
    page.tab.goto(f"{live_server.url}/api/redoc/")
    page.tab.get_by_role("heading", name=re.compile("cxcrm API")).wait_for(timeout=WAIT_MS)
    shot(page.tab, "redoc-desk")
    search = page.tab.get_by_placeholder("Search...")
    search.fill("resolve")
    results = page.tab.locator("[data-role='search:results'] [role=menuitem]")
    results.first.wait_for(timeout=WAIT_MS)
    labels = [results.nth(n).get_attribute("aria-label") for n in range(results.count())]
    assert "Resolve a ticket" in labels
    assert any(url.startswith("blob:") for url in page.requests)
    for watched_page in (phone, page):
        assert watched_page.foreign(live_server.url) == []
        assert watched_page.csp_violations() == []


def test_swagger_and_getting_started_ask_nothing_of_other_origins(
    live_server: Any, watched
) -> None:  # type: ignore[no-untyped-def]
    pages = {
        "swagger": ("/api/docs/", "Record interactions"),
        "getting-started": ("/api/getting-started/", "Your first purchase"),
    }
    for name, (path, text) in pages.items():
        for size, viewport in (("desk", DESK), ("phone", PHONE)):
            page = watched(viewport)
            page.tab.goto(f"{live_server.url}{path}")
            page.tab.get_by_text(text).first.wait_for(timeout=WAIT_MS)
            page.tab.wait_for_load_state("networkidle")
            shot(page.tab, f"{name}-{size}")
            assert page.foreign(live_server.url) == [], name
            assert page.csp_violations() == [], name
