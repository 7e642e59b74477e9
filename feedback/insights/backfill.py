"""The backfill: file every customer text written so far, then enrich what is pending, a
batch at a time. Resumable: a text already filed with the same words is left alone, a row
already enriched under the current version is skipped, so an interrupted run picks up where
it stopped. Works alike on SQLite and PostgreSQL (keyset reads in id order, no extension)."""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from tqdm import tqdm

from feedback.insights import selectors, services, sources


@dataclass(frozen=True)
class BackfillResult:
    filed: int  # rows created or changed from the sources
    enriched: int
    seconds: float  # enrichment time
    peak_rss_mb: float

    @property
    def rows_per_second(self) -> float:
        return self.enriched / self.seconds if self.seconds > 0 else 0.0


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def insights_backfill(
    *,
    batch: int = 64,
    since: datetime | None = None,
    limit: int | None = None,
    progress: bool = True,
    stream: IO[str] | None = None,
) -> BackfillResult:
    filed = 0
    with tqdm(
        desc="Filing texts", unit=" texts", file=stream, disable=None if progress else True
    ) as bar:
        for chunk in sources.all_source_texts(since=since):
            filed += services.insights_file(items=chunk)
            bar.update(len(chunk))
    setup = services.enrichment_setup()
    total = selectors.insights_pending_count(version=setup.version, since=since)
    if limit is not None:
        total = min(total, limit)
    enriched = 0
    started = time.monotonic()
    with tqdm(
        total=total,
        desc="Enriching",
        unit=" rows",
        file=stream,
        disable=None if progress else True,
    ) as bar:
        # The never enriched first, then rows of another version; each pass in id order.
        for stale in (False, True):
            after = 0
            while enriched < total:
                ids = selectors.insights_pending_ids(
                    version=setup.version,
                    limit=min(batch, total - enriched),
                    after=after,
                    stale=stale,
                    since=since,
                )
                if not ids:
                    break
                written = services.insights_enrich(ids=ids, setup=setup)
                enriched += written
                bar.update(written)
                after = ids[-1]
    return BackfillResult(
        filed=filed,
        enriched=enriched,
        seconds=time.monotonic() - started,
        peak_rss_mb=peak_rss_mb(),
    )
