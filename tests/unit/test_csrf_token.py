"""cxcrm.csrf: Django's CSRF token, cheaper to draw; the middleware must take it as its own."""

from __future__ import annotations

from collections import Counter

import pytest
from django.http import HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CSRF_TOKEN_LENGTH,
    CsrfViewMiddleware,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from cxcrm.csrf import csrf_token, random_chars


def test_random_chars_are_allowed_characters_of_the_right_length_and_all_appear() -> None:
    drawn = [random_chars() for _ in range(2000)]
    assert all(len(s) == CSRF_SECRET_LENGTH for s in drawn)
    assert len(set(drawn)) == len(drawn)
    counts = Counter("".join(drawn))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # 64,000 characters over 62: ~1,032 each; a biased draw (b % 62 of every byte) would
    # give the first 8 characters ~1,290.
    assert max(counts.values()) < 1200 and min(counts.values()) > 870
    assert len(random_chars(5)) == 5


def _middleware() -> CsrfViewMiddleware:
    return CsrfViewMiddleware(lambda request: HttpResponse())


def test_first_visit_gets_a_secret_cookie_and_a_masked_token_of_it() -> None:
    request = RequestFactory().get("/s/x/")
    middleware = _middleware()
    middleware.process_request(request)
    token = csrf_token(request)
    assert len(token) == CSRF_TOKEN_LENGTH and set(token) <= set(CSRF_ALLOWED_CHARS)
    response = middleware.process_response(request, HttpResponse())
    cookie = response.cookies["csrftoken"].value
    assert len(cookie) == CSRF_SECRET_LENGTH
    assert _unmask_cipher_token(token) == cookie
    # A second token for the same visitor: a fresh mask, the same secret.
    again = csrf_token(request)
    assert again != token and _unmask_cipher_token(again) == cookie


@pytest.mark.parametrize("known", [True, False])
def test_middleware_accepts_the_token_with_its_cookie_and_refuses_it_with_another(
    known: bool,
) -> None:
    factory = RequestFactory()
    first = factory.get("/s/x/")
    middleware = _middleware()
    middleware.process_request(first)
    token = csrf_token(first)
    cookie = middleware.process_response(first, HttpResponse()).cookies["csrftoken"].value
    sent_cookie = cookie if known else random_chars()
    post = factory.post("/s/x/", {"csrfmiddlewaretoken": token})
    post.COOKIES["csrftoken"] = sent_cookie
    post._dont_enforce_csrf_checks = False  # type: ignore[attr-defined]
    middleware.process_request(post)
    refused = middleware.process_view(post, lambda request: HttpResponse(), (), {})
    assert (refused is None) is known


def test_returning_visitor_keeps_the_secret_of_their_cookie() -> None:
    secret = random_chars()
    request = RequestFactory().get("/s/x/")
    request.COOKIES["csrftoken"] = secret
    middleware = _middleware()
    middleware.process_request(request)
    assert _unmask_cipher_token(csrf_token(request)) == secret
    response = middleware.process_response(request, HttpResponse())
    assert response.cookies["csrftoken"].value == secret  # renewed, not replaced
