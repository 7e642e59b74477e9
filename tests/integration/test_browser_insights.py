"""What customers talk about, in a real browser: the dashboard's topics and key drivers, the
journey map's top complaints and the emerging themes page, at 1366×768 and 390×844, with
their screenshots (Debian's Chromium via Playwright, against a live server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.browser import SCREENSHOTS, launch_browser, shot
from tests.factories import UserFactory
from tests.unit.test_insights_analysis import World, comment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
SIZES = ((1366, 768, "1366"), (390, 844, "phone"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


def _seed() -> None:
    from feedback.insights.models import Topic

    names = {
        "delivery": "Delivery",
        "packaging_damage": "Damaged item or packaging",
        "price_value": "Price and value",
        "staff": "Staff",
    }
    # The world has these four topics only, whether or not an earlier transactional test
    # flushed the ten that migration 0025 seeds.
    Topic.objects.exclude(slug__in=names).delete()
    for slug, name in names.items():
        Topic.objects.update_or_create(slug=slug, defaults={"name": name})
    world = World()
    for week in range(6):
        days = 1 + 7 * week
        world.answers(
            [2] * (8 + week) + [9] * 2,
            ("delivery",),
            sentiment="negative",
            touchpoint=world.web,
            days_ago=days,
        )
        world.answers(
            [3] * 3,
            ("packaging_damage", "delivery"),
            sentiment="negative",
            touchpoint=world.web,
            days_ago=days,
        )
        world.answers(
            [10] * 6 + [8] * 2,
            ("staff",),
            sentiment="positive",
            touchpoint=world.store,
            days_ago=days,
        )
        world.answers(
            [6] * 2 + [9] * 2,
            ("price_value",),
            sentiment="negative",
            touchpoint=world.store,
            days_ago=days,
        )
        world.answers([9] * 12 + [7] * 4, touchpoint=world.store, days_ago=days)
    rng = np.random.default_rng(1)
    for texts in (
        [
            ("ru", "Парковка у магазина всегда забита"),
            ("en", "No parking near the store on Saturdays"),
            ("pl", "Brak miejsc parkingowych przy sklepie"),
            ("zh-hans", "商店门口停车位太少了"),
            ("en", "parking is a nightmare"),
        ],
        [
            ("en", "Please add gift wrapping"),
            ("ru", "Подарочная упаковка была бы кстати"),
            ("pl", "Czy można zapakować na prezent?"),
            ("en", "gift wrap option at checkout?"),
            ("en", "gift wrapping please"),
        ],
    ):
        centre = rng.normal(size=384)
        for lang, t in texts:
            comment(t, centre + rng.normal(scale=0.02, size=384), lang=lang)


@pytest.fixture
def manager_page(browser: Any, live_server: Any) -> Iterator[Any]:
    _seed()
    UserFactory(username="mara", email="mara@cx.example", is_superuser=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.fill("input[name=login]", "mara@cx.example")
    tab.fill("input[name=password]", PASSWORD)
    tab.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    tab.wait_for_load_state("load")
    yield tab
    context.close()


def section_shot(tab: Any, selector: str, name: str) -> None:
    """The page from `selector` down, at the window's width: the part this feature adds."""
    top = tab.evaluate(
        f"document.querySelector('{selector}').getBoundingClientRect().top + scrollY"
    )
    height = tab.evaluate("document.documentElement.scrollHeight") - top
    width = tab.evaluate("window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    clip = {"x": 0, "y": top, "width": width, "height": height}
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, clip=clip)


def _fits(tab: Any) -> bool:
    """Nothing wider than the window but the tables' own scroll boxes."""
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_topics_drivers_complaints_and_themes(manager_page: Any, live_server: Any) -> None:
    tab = manager_page
    tab.goto(f"{live_server.url}/admin/dashboard/?period=90")
    talk = tab.locator("#talk")
    assert "What customers talk about" in talk.inner_text()
    assert tab.locator("table.cx-topics tbody tr").count() == 4
    assert tab.locator(".cx-topic-spark svg").count() == 4
    drivers = tab.locator(".cx-drivers").inner_text()
    assert "Delivery" in drivers and "Web shop" in drivers
    for width, height, name in SIZES:
        tab.set_viewport_size({"width": width, "height": height})
        talk.scroll_into_view_if_needed()
        assert _fits(tab), width
        shot(tab, f"insights-dashboard-{name}")
        section_shot(tab, "#talk", f"insights-dashboard-section-{name}")
    tab.set_viewport_size({"width": 1366, "height": 768})
    tab.goto(f"{live_server.url}/admin/journey-map/?period=90")
    complaints = tab.locator(".cx-tp-complaints").all_inner_texts()
    assert any("Delivery" in c for c in complaints), complaints
    for width, height, name in SIZES:
        tab.set_viewport_size({"width": width, "height": height})
        shot(tab, f"insights-journey-{name}")
    tab.set_viewport_size({"width": 1366, "height": 768})
    tab.goto(f"{live_server.url}/admin/emerging-themes/")
    assert tab.locator("article.cx-theme").count() == 2
    for width, height, name in SIZES:
        tab.set_viewport_size({"width": width, "height": height})
        assert _fits(tab), width
        shot(tab, f"insights-themes-{name}")
    tab.locator("article.cx-theme button").first.click()
    tab.wait_for_load_state("load")
    assert "created" in tab.locator("body").inner_text()
