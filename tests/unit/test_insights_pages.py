"""The staff pages' comment analysis: the dashboard's "What customers talk about" and key
drivers, the journey map's top complaints, the emerging themes page (who may read it, who may
turn a theme into a topic, what a bad post gets)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from cxcrm.roles import AGENT, MANAGER
from feedback.insights.models import CommentInsight, Topic, TopicAssignment
from tests.factories import UserFactory
from tests.unit.test_insights_analysis import World, comment, topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_default_topics(db: Any) -> None:
    # Migration 0025 seeds the ten default topics; these tests build their own taxonomy.
    Topic.objects.all().delete()


DASHBOARD = "/admin/dashboard/"
JOURNEY = "/admin/journey-map/"
THEMES = "/admin/emerging-themes/"


@pytest.fixture
def world() -> World:
    return World()


def signed_in(role: str) -> Client:
    user = UserFactory(username=f"pages-{role}", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def text(page: Any) -> str:
    return re.sub(r"\s+", " ", page.content.decode())


def test_the_dashboard_shows_topics_and_the_obvious_driver(
    admin_client: Client, world: World
) -> None:
    world.answers([2] * 40, ("delivery",), sentiment="negative", touchpoint=world.web)
    world.answers([9] * 60 + [7] * 20, touchpoint=world.store)
    page = text(admin_client.get(DASHBOARD))
    assert "What customers talk about" in page and "120 comments analysed" in page
    row = re.search(r'<th scope="row">Delivery</th>(.*?)</tr>', page)
    assert row is not None
    cells = re.findall(r'<td class="cx-num[^"]*">(.*?)</td>', row.group(1))
    assert cells[:3] == ["40", "33%", "100%"]
    assert "<strong>-100</strong>" in cells[3]
    assert "Delivery: comments per week" in row.group(1)  # the sparkline
    drivers = page[page.index('id="drivers"') :]
    assert re.search(r"<strong>Delivery</strong>.*?impact <strong>-", drivers)
    assert re.search(r"<strong>Web shop</strong>.*?impact <strong>-", drivers)


def test_a_topic_with_too_few_answers_shows_no_score_and_no_driver(
    admin_client: Client, world: World
) -> None:
    world.answers([2] * 5, ("staff",), sentiment="negative")
    page = text(admin_client.get(DASHBOARD))
    assert 'title="too few answers (n=5)' in page
    assert "Not enough answers to tell yet." in page


def test_the_journey_map_lists_a_touchpoints_top_complaints(
    admin_client: Client, world: World
) -> None:
    world.answers([2] * 4, ("delivery",), sentiment="negative", touchpoint=world.web)
    world.answers([2] * 2, ("staff",), sentiment="negative", touchpoint=world.web)
    world.answers([10] * 9, ("staff",), sentiment="positive", touchpoint=world.web)
    page = text(admin_client.get(JOURNEY))
    card = page[page.index("<h3>Web shop</h3>") :]
    card = card[: card.index("</a>")]
    found = re.findall(r"<dd><span>(.*?)</span><strong>(\d+)</strong></dd>", card)
    assert found == [("Delivery", "4"), ("Staff", "2")]


def _theme() -> list[int]:
    """Five comments on parking, among comments a topic covers (as a deployment has)."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=384)
    covered = topic("delivery")
    for _ in range(10):
        pk = comment("The courier was late", rng.normal(size=384))
        TopicAssignment.objects.create(insight_id=pk, topic=covered, confidence=0.9)
    texts = [
        "Parking is full",
        "No parking spaces",
        "parking too far",
        "Paid parking?",
        "parking!!",
    ]
    return [comment(t, base + rng.normal(scale=0.01, size=384)) for t in texts]


def test_managers_read_the_emerging_themes_agents_may_not() -> None:
    _theme()
    page = signed_in(MANAGER).get(THEMES)
    assert page.status_code == 200
    assert "Parking" in text(page) and text(page).count("<blockquote") == 3
    assert signed_in(AGENT).get(THEMES).status_code == 403


def test_the_themes_are_clustered_once_until_what_they_depend_on_changes(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedback.insights import analysis

    runs = []
    clustering = analysis.emerging_themes

    def counted(**kwargs: Any) -> Any:
        runs.append(kwargs)
        return clustering(**kwargs)

    monkeypatch.setattr(analysis, "emerging_themes", counted)
    ids = _theme()
    first = text(admin_client.get(THEMES))
    second = text(admin_client.get(THEMES))
    quotes = re.findall(r"<blockquote.*?</blockquote>", second)
    assert len(runs) == 1 and "Parking" in second and len(quotes) == 3
    assert quotes == re.findall(r"<blockquote.*?</blockquote>", first)
    # A new comment no topic covers may make or change a theme: clustered again.
    comment("parking was full again", np.random.default_rng(5).normal(size=384))
    admin_client.get(THEMES)
    assert len(runs) == 2
    admin_client.get(THEMES)
    assert len(runs) == 2
    # The taxonomy changes what is covered: a topic switched off uncovers its comments.
    Topic.objects.filter(slug="delivery").update(active=False)
    admin_client.get(THEMES)
    assert len(runs) == 3
    # Re-enrichment (a new taxonomy or model version) rewrites the comments: again.
    CommentInsight.objects.filter(pk=ids[0]).update(model_version="test-2")
    admin_client.get(THEMES)
    assert len(runs) == 4


def test_a_theme_becomes_a_topic_with_its_quotes_as_examples(admin_client: Client) -> None:
    ids = _theme()
    reply = admin_client.post(THEMES, {"name": "Store parking", "quote": ids[:3]})
    assert reply.status_code == 302
    topic = Topic.objects.get(slug="store-parking")
    assert (topic.name, topic.slug) == ("Store parking", "store-parking")
    assert len(topic.examples) == 3 and "Parking is full" in topic.examples


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "quote": ["1"]}, "name: This field is required."),
        ({"name": "Gone", "quote": ["424242"]}, "comments are gone (erased or re-enriched)"),
        (
            {"name": "Junk", "quote": ["x", "-1", "9" * 30]},
            "comments are gone (erased or re-enriched)",
        ),
    ],
)
def test_a_bad_post_is_a_400_with_a_message_and_no_topic(
    admin_client: Client, data: dict[str, Any], message: str
) -> None:
    reply = admin_client.post(THEMES, data)
    assert reply.status_code == 400
    assert message in text(reply)
    assert not Topic.objects.exclude(slug="delivery").exists()


def test_a_role_without_the_taxonomy_permission_may_not_create_a_topic() -> None:
    ids = _theme()
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_dashboard"))
    client = Client()
    client.force_login(viewer)
    assert client.get(THEMES).status_code == 200
    assert client.post(THEMES, {"name": "Parking", "quote": ids}).status_code == 403
    assert not Topic.objects.exclude(slug="delivery").exists()
