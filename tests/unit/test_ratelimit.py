"""The per-client rate limit's counters with the default file cache: files of their own,
grown by one byte a hit, so that processes counting at once never lose a hit."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from cxcrm import ratelimit
from cxcrm.ratelimit import allow

FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"


@pytest.fixture
def file_cache(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.CACHES = {"default": {"BACKEND": FILE_CACHE, "LOCATION": str(tmp_path / "cache")}}
    return tmp_path / "cache" / "ratelimit"


def test_limit_holds_per_client_and_scope(file_cache: Path) -> None:
    hits = [allow("token", "10.0.0.1", limit=3, window=60) for _ in range(5)]
    assert hits == [True, True, True, False, False]
    assert allow("token", "10.0.0.2", limit=3, window=60)
    assert allow("other", "10.0.0.1", limit=3, window=60)
    # Nothing went through the cache itself.
    assert not list((file_cache.parent).glob("*.djcache"))


def test_addresses_become_plain_file_names(file_cache: Path) -> None:
    for ident in ("../../etc/passwd", "fe80::1%eth0", "unknown", "a/b"):
        assert allow("token", ident, limit=5, window=60)
    files = [p for p in file_cache.rglob("*") if p.is_file()]
    assert len(files) == 4
    assert all(p.parent.parent == file_cache and len(p.name) == 32 for p in files)


def test_a_new_window_starts_from_zero_and_removes_the_ended_ones(
    file_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [6_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [allow("token", "10.0.0.1", limit=1, window=60) for _ in range(2)] == [True, False]
    now[0] += 60
    assert allow("token", "10.0.0.1", limit=1, window=60)
    assert sorted(p.name for p in file_cache.iterdir()) == ["token-60-101"]
    # A process whose clock still reads the last window does not delete the new one.
    now[0] -= 1
    allow("token", "10.0.0.1", limit=1, window=60)
    assert (file_cache / "token-60-101").is_dir()


def _hammer(location: str, hits: int) -> None:
    from django.conf import settings

    settings.CACHES = {"default": {"BACKEND": FILE_CACHE, "LOCATION": location}}
    for _ in range(hits):
        allow("token", "10.0.0.9", limit=10**6, window=3600)
    os._exit(0)


def test_processes_counting_at_once_lose_no_hit(file_cache: Path) -> None:
    allow("token", "10.0.0.9", limit=10**6, window=3600)
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_hammer, args=(str(file_cache.parent), 200)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    (counter,) = [p for p in file_cache.rglob("*") if p.is_file()]
    assert counter.stat().st_size == 1 + 4 * 200
