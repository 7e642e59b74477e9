"""The URLconf: the public pages are tried first, and that order shadows nothing."""

from __future__ import annotations

from django.urls import get_resolver, resolve

from feedback.surveys import views


def test_public_pages_are_the_first_patterns_after_the_home_page() -> None:
    patterns = get_resolver().url_patterns
    assert str(patterns[0].pattern) == ""
    assert getattr(patterns[1], "urlconf_name", None).__name__ == "feedback.urls"  # type: ignore[union-attr]


def test_every_page_still_resolves_to_its_view() -> None:
    assert resolve("/s/abc/").func is views.survey
    assert resolve("/s/abc/thanks/").func is views.survey_thanks
    assert resolve("/u/abc/").func is views.unsubscribe
    assert resolve("/u/abc/resubscribe/").func is views.resubscribe
    assert resolve("/inbound/email/").url_name == "inbound-email"
    assert resolve("/admin/queue/").url_name == "ticket-queue"
    assert resolve("/admin/").app_name == "admin"
    assert resolve("/accounts/login/").url_name == "account_login"
    assert resolve("/api/v1/tickets/").route.startswith("api/")
    assert resolve("/").route == ""
