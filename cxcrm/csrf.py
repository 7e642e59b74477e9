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
_N = len(_CHARS)
# The largest multiple of 62 in a byte: bytes from here up are dropped so that ``b % 62``
# picks every character with the same chance.
_BELOW = 256 - 256 % _N
# bytes.translate does the draw in C: byte b becomes the character b % 62 and the bytes from
# _BELOW up are deleted (~1 µs for 32 characters; a Python loop over the bytes took ~4).
_BYTE_TO_CHAR = bytes(ord(_CHARS[b % _N]) if b < _BELOW else 0 for b in range(256))
_DROPPED = bytes(range(_BELOW, 256))
# (secret character, mask character) -> the masked character, as Django's
# _mask_cipher_secret computes it one character at a time.
_MASKED = {(s, m): _CHARS[(i + j) % _N] for i, s in enumerate(_CHARS) for j, m in enumerate(_CHARS)}


def random_chars(length: int = CSRF_SECRET_LENGTH) -> str:
    """``length`` characters of CSRF_ALLOWED_CHARS, uniformly at random (os.urandom)."""
    drawn = b""
    while len(drawn) < length:
        # 1/32 of bytes are dropped: a few spare bytes nearly always suffice in one call.
        drawn += os.urandom(length - len(drawn) + 8).translate(_BYTE_TO_CHAR, _DROPPED)
    return drawn[:length].decode("ascii")


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
    return mask + "".join(map(_MASKED.__getitem__, zip(secret, mask, strict=True)))
