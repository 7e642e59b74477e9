"""The per-client rate limit on Django's cache API, with the backends we run: the in-memory
cache of the tests, the file cache of the embedded default (Redis shares the same code path)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import CacheKeyWarning

from cxcrm import ratelimit
from cxcrm.ratelimit import allow

BACKENDS = {
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "file": "django.core.cache.backends.filebased.FileBasedCache",
}


@pytest.fixture(params=sorted(BACKENDS))
def any_cache(request, settings, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    settings.CACHES = {
        "default": {"BACKEND": BACKENDS[request.param], "LOCATION": str(tmp_path / "cache")}
    }
    cache.clear()
    return request.param


def test_limit_holds_per_client_and_scope(any_cache: str) -> None:
    hits = [allow("token", "10.0.0.1", limit=3, window=60) for _ in range(5)]
    assert hits == [True, True, True, False, False]
    assert allow("token", "10.0.0.2", limit=3, window=60)
    assert allow("other", "10.0.0.1", limit=3, window=60)


def test_any_client_string_is_a_valid_key(any_cache: str) -> None:
    # Header-supplied addresses with characters memcached keys refuse: no CacheKeyWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        for ident in ("../../etc/passwd", "fe80::1%eth0", "un known\n", "a/b" * 30):
            assert [allow("token", ident, limit=1, window=60) for _ in range(2)] == [True, False]


def test_a_new_window_starts_from_zero(any_cache: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [6_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [allow("token", "10.0.0.1", limit=1, window=60) for _ in range(2)] == [True, False]
    now[0] += 60
    assert allow("token", "10.0.0.1", limit=1, window=60)


def test_a_hit_that_loses_the_race_to_open_the_window_is_counted(
    any_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ratelimit.cache
    raced = []

    class OtherWorkerOpensTheWindowFirst:
        """Our incr() finds no counter; another worker's add() lands before ours."""

        def incr(self, key: str) -> int:
            if not raced:
                raced.append(key)
                real.add(key, 1, timeout=60)
                raise ValueError(key)
            return real.incr(key)

        def add(self, key: str, value: int, timeout: int) -> bool:
            return real.add(key, value, timeout=timeout)

    monkeypatch.setattr(ratelimit, "cache", OtherWorkerOpensTheWindowFirst())
    assert allow("token", "10.0.0.1", limit=2, window=60)
    assert real.get(raced[0]) == 2
    assert not allow("token", "10.0.0.1", limit=2, window=60)
