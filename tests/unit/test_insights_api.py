"""The insights API (analyze, the taxonomy) and the admin's one-click corrections."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cxcrm.roles import AGENT, MANAGER
from feedback.insights.models import CommentInsight, Topic, TopicAssignment
from tests.api_support import *  # noqa: F403 - the persona fixtures
from tests.api_support import count_get, key_client, rows, staff_member
from tests.factories import ResponseFactory, UserFactory

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/insights/analyze/"
TOPICS = "/api/v1/insights/topics/"


def role_client(role: str) -> APIClient:
    client = APIClient()
    client.force_login(staff_member(role))
    return client


def test_analyze_gives_language_topics_and_sentiment_to_a_read_key() -> None:
    reply = key_client("read").post(
        ANALYZE,
        {
            "texts": [
                "The parcel came a week late, the courier never called.",
                "Курьер был очень вежливый, спасибо!",
            ]
        },
        format="json",
    )
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["model_version"]
    late, polite = body["results"]
    assert late["language"] == "en" and late["sentiment"] == "negative"
    assert "delivery" in [t["slug"] for t in late["topics"]]
    assert late["topics"][0]["name"]
    assert polite["language"] == "ru" and polite["sentiment"] == "positive"
    assert not CommentInsight.objects.exists()  # nothing stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"texts": ["x"] * 51}, "texts"),
        ({"texts": ["x" * 5001]}, "texts"),
        ({"texts": []}, "texts"),
        ({"texts": "not a list"}, "texts"),
        ({"texts": [1, {"a": 2}]}, "texts"),
        ({}, "texts"),
        ({"texts": ["a\x01b"]}, "texts"),
    ],
)
def test_analyze_refuses_bad_input_with_a_400(body: dict[str, Any], field: str) -> None:
    reply = key_client("read").post(ANALYZE, body, format="json")
    assert reply.status_code == 400, reply.content
    assert field in reply.json()


def test_analyze_needs_a_key_or_staff() -> None:
    assert APIClient().post(ANALYZE, {"texts": ["hi"]}, format="json").status_code == 401


def test_topic_upsert_patch_and_delete_by_a_manager() -> None:
    manager = role_client(MANAGER)
    body = {
        "slug": "gift_wrap",
        "name": "Gift wrapping",
        "description": "Gift wrap and notes",
        "examples": ["No gift wrap", "  Подарочная   упаковка ", "No gift wrap"],
    }
    reply = manager.post(TOPICS, body, format="json")
    assert reply.status_code == 201, reply.content
    topic = Topic.objects.get(slug="gift_wrap")
    assert topic.examples == ["No gift wrap", "Подарочная упаковка"]
    again = manager.post(TOPICS, {"slug": "gift_wrap", "active": False}, format="json")
    assert again.status_code == 200 and again.json()["active"] is False
    patch = manager.patch(f"{TOPICS}{topic.pk}/", {"name": "Gift wrap"}, format="json")
    assert patch.status_code == 200 and patch.json()["name"] == "Gift wrap"
    assert manager.delete(f"{TOPICS}{topic.pk}/").status_code == 204
    assert not Topic.objects.filter(slug="gift_wrap").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "x", "name": "X", "examples": "one phrase"},
        {"slug": "x", "name": "X", "examples": ["a"] * 31},
        {"slug": "x", "name": "X", "examples": ["a" * 301]},
        {"slug": "x y", "name": "X"},
        {"slug": "x", "name": "Delivery"},  # names are unique
        {"slug": "x"},  # a new topic needs a name
    ],
)
def test_bad_topic_is_a_400(body: dict[str, Any]) -> None:
    reply = key_client("read,write").post(TOPICS, body, format="json")
    assert reply.status_code == 400, reply.content
    assert not Topic.objects.filter(slug="x").exists()


def test_agents_and_read_keys_read_the_taxonomy_but_do_not_change_it() -> None:
    for client in (role_client(AGENT), key_client("read")):
        assert len(rows(client.get(TOPICS))) == 10
        assert client.post(TOPICS, {"slug": "x", "name": "X"}, format="json").status_code == 403


def test_topic_list_query_count_does_not_grow_with_topics() -> None:
    client = key_client("read")
    few, _ = count_get(client, TOPICS)
    for n in range(15):
        Topic.objects.create(slug=f"extra-{n}", name=f"Extra {n}")
    many, reply = count_get(client, TOPICS)
    # 1 the key, 2 its last use (throttled), 3 COUNT, 4 the page.
    assert few == many
    assert reply.json()["count"] == 25


# --- One-click corrections ------------------------------------------------------------------------


def _insight() -> CommentInsight:
    response = ResponseFactory(score=2, comment="The courier was rude")
    insight = CommentInsight.objects.create(
        source="answer",
        source_id=response.pk,
        text=response.comment,
        occurred_at=response.submitted_at,
        response=response,
        language="en",
        embedding=bytes(768),
        sentiment="negative",
        enriched_at=timezone.now(),
    )
    TopicAssignment.objects.create(
        insight=insight, topic=Topic.objects.get(slug="delivery"), confidence=0.7
    )
    return insight


def _agent_client(*, csrf: bool = False) -> Client:
    agent = UserFactory(username="agent-one", password=None)
    agent.groups.add(Group.objects.get(name=AGENT))
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(agent)
    return client


def test_an_agent_removes_and_adds_a_topic_in_one_click_json() -> None:
    insight = _insight()
    client = _agent_client()
    url = reverse("admin:feedback_commentinsight_correct", args=[insight.pk])
    delivery, staff = Topic.objects.get(slug="delivery"), Topic.objects.get(slug="staff")
    reply = client.post(
        url, {"topic": delivery.pk, "present": "false"}, HTTP_ACCEPT="application/json"
    )
    assert reply.status_code == 200
    assert reply.json() == {"insight": insight.pk, "topics": []}
    reply = client.post(url, {"topic": staff.pk}, HTTP_ACCEPT="application/json")
    assert [t["slug"] for t in reply.json()["topics"]] == ["staff"]
    assert reply.json()["topics"][0]["by_staff"] is True
    removed = TopicAssignment.objects.get(insight=insight, topic=delivery)
    assert removed.removed and removed.by_staff and removed.corrected_by.username == "agent-one"


def test_the_list_buttons_correct_and_come_back_to_the_list() -> None:
    insight = _insight()
    client = _agent_client()
    changelist = reverse("admin:feedback_commentinsight_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    url = reverse("admin:feedback_commentinsight_correct", args=[insight.pk])
    html = page.content.decode()
    assert f'formaction="{url}"' in html and f'name="add-topic-{insight.pk}"' in html
    price = Topic.objects.get(slug="price_value")
    reply = client.post(
        url, {"add": "1", f"add-topic-{insight.pk}": price.pk}, HTTP_REFERER=changelist
    )
    assert reply.status_code == 302 and reply["Location"] == changelist
    delivery = Topic.objects.get(slug="delivery")
    client.post(url, {"remove": delivery.pk}, HTTP_REFERER="https://evil.example/")
    live = TopicAssignment.objects.filter(insight=insight, removed=False)
    assert list(live.values_list("topic__slug", flat=True)) == ["price_value"]
    filtered = client.get(changelist, {"topic": price.pk, "sentiment": "negative"})
    assert list(filtered.context["cl"].result_list) == [insight]
    assert list(client.get(changelist, {"topic": delivery.pk}).context["cl"].result_list) == []


def test_corrections_need_csrf_a_post_and_a_known_topic() -> None:
    insight = _insight()
    url = reverse("admin:feedback_commentinsight_correct", args=[insight.pk])
    assert _agent_client(csrf=True).post(url, {"topic": 1}).status_code == 403
    client = _agent_client()
    assert client.get(url).status_code == 405
    json = {"HTTP_ACCEPT": "application/json"}
    assert client.post(url, {"topic": "²"}, **json).status_code == 400
    assert client.post(url, {"topic": 10**9}, **json).status_code == 400
    other = reverse("admin:feedback_commentinsight_correct", args=[10**9])
    assert client.post(other, {"topic": 1}, **json).status_code == 400
    assert TopicAssignment.objects.filter(by_staff=True).count() == 0


def test_analyze_refuses_a_lone_surrogate_with_a_400() -> None:
    reply = key_client("read").post(
        ANALYZE, b'{"texts": ["ok \\ud800"]}', content_type="application/json"
    )
    assert reply.status_code == 400, reply.content
