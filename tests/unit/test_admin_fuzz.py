"""Property-based: every admin changelist (the triage queue among them) answers any query string
a superuser can send, with hostile values in its own parameters (each list filter's, search,
ordering, page, date hierarchy), with a status below 500. The changelists come from the admin's
registry, so a new ModelAdmin is covered without a line here."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import (
    CustomerFactory,
    InvitationFactory,
    ResponseFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXAMPLES_PER_CHANGELIST = 10


def _changelists() -> list[tuple[str, Any]]:
    found = []
    for model in apps.get_models():
        if admin.site.is_registered(model):
            meta = model._meta
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
            found.append((url, admin.site.get_model_admin(model)))
    return found


CHANGELISTS = _changelists()

HOSTILE = [
    "²",
    "①",
    "٣",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "1e999",
    "NaN",
    "\x00",
    "a\x00b",
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "true",
    "None",
    "2026-13-45",
    "0000-00-00 00:00:00",
    "x" * 5000,
    "'; DROP TABLE x; --",
    "%",
    "\\",
    "\u202e",
    "\ud7ff",
    "😀",
]

# One of each kind that once made a 500: a digit int() refuses, an integer no column holds, a
# year whose end is past 9999, a number that is not finite, a date that is not one, text no
# column holds.
SWEEP = ["²", "99999999999999999999", "9999", "1e999", "2026-13-45", "x" * 5000]

values = st.one_of(
    st.sampled_from(SWEEP),
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def _parameters(client: Client, url: str, model_admin: Any) -> list[str]:
    """The changelist's own parameters, read off the page as the admin built it."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    changelist = page.context["cl"]
    names = ["o", "p", "all", "e", "_to_field"]
    for spec in changelist.filter_specs:
        names.extend(spec.expected_parameters())
    if model_admin.search_fields:
        names.append("q")
    if model_admin.date_hierarchy:
        names.extend(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return sorted(set(names))


@pytest.fixture
def boss() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="root", is_superuser=True, password=None))
    # A row or two behind most lists, so that filters have choices and pages have rows.
    TicketFactory(response=ResponseFactory(score=2, invitation=InvitationFactory()))
    CustomerFactory()
    return client


@pytest.mark.parametrize(("url", "model_admin"), CHANGELISTS, ids=[u for u, _ in CHANGELISTS])
def test_every_changelist_survives_hostile_query_strings(
    boss: Client, url: str, model_admin: Any
) -> None:
    names = _parameters(boss, url, model_admin)
    # Each example: some of the page's parameters, each with one value or a list of them.
    queries = st.dictionaries(
        st.sampled_from(names),
        st.one_of(values, st.lists(values, min_size=2, max_size=3)),
        min_size=1,
        max_size=4,
    )
    started, runs = time.monotonic(), []

    @settings(
        max_examples=EXAMPLES_PER_CHANGELIST,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(query=queries)
    def survives(query: dict[str, Any]) -> None:
        reply = boss.get(url, query)
        runs.append(reply.status_code)
        assert reply.status_code < 500, (url, query)

    survives()
    # And every parameter alone with each kind in SWEEP, which random draws could miss.
    for name in names:
        for value in SWEEP:
            reply = boss.get(url, {name: value})
            runs.append(reply.status_code)
            assert reply.status_code < 500, (url, name, value)
    print(f"{url}: {len(runs)} requests in {time.monotonic() - started:.1f}s")
