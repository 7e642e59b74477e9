"""Django's CSRF token, drawn with two calls to the OS's random source instead of 64.

Every emailed survey link is a first visit: the page gives the visitor a CSRF secret (the
cookie) and a masked token (the form field). Django's ``get_token`` draws both with
``get_random_string``, one ``secrets.choice`` per character, ~27 µs for each 32 characters:
a tenth of the survey page's CPU beyond a bare view (python -m bench.survey_page). This
draws the same characters from ``os.urandom`` bytes (rejection sampling, so each of the 62 is
equally likely: ~190 random bits per string, as Django's) and masks the secret the way Django
does (mask + secret shifted by the mask, ``django.middleware.csrf._mask_cipher_secret``), so
``CsrfViewMiddleware`` sets the cookie and checks the POST exactly as for its own tokens;
tests/unit/test_csrf_token.py holds it to that.
"""

from __future__ import annotations

import os

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {c: i for i, c in enumerate(_CHARS)}
# The largest multiple of 62 in a byte: bytes from here up are dropped so that ``b % 62``
# picks every character with the same chance.
_BELOW = 256 - 256 % len(_CHARS)


def random_chars(length: int = CSRF_SECRET_LENGTH) -> str:
    """``length`` characters of CSRF_ALLOWED_CHARS, uniformly at random (os.urandom)."""
    out: list[str] = []
    while len(out) < length:
        # 1/32 of bytes are dropped: a few spare bytes nearly always suffice in one call.
        for byte in os.urandom(length - len(out) + 8):
            if byte < _BELOW:
                out.append(_CHARS[byte % len(_CHARS)])
                if len(out) == length:
                    break
    return "".join(out)


def csrf_token(request: HttpRequest) -> str:
    """What ``django.middleware.csrf.get_token(request)`` returns and does: a new secret for a
    visitor without one (CsrfViewMiddleware then sets the cookie), and the secret masked
    with a fresh mask for the form."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = random_chars()
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_chars()
    n = len(_CHARS)
    cipher = "".join(_CHARS[(_INDEX[s] + _INDEX[m]) % n] for s, m in zip(secret, mask, strict=True))
    return mask + cipher
