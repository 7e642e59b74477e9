"""The comment-insights backfill at scale: `manage.py insights_backfill`'s code on N comments.

``python -m bench.insights_backfill N [--batch B] [--db NAME] [--tracemalloc] [--keep]``

Issue 18 asks for the time and peak memory of a backfill of 100,000 comments. This bench
makes a PostgreSQL database of its own (``bench_insights_backfill`` or ``--db``, dropped
afterwards unless ``--keep``), migrates it, seeds a few customers and touchpoints (bench.seed), then
writes N survey answers whose comments are the team's labelled texts, each made distinct
by a number (written with ``bulk_create``, so nothing is filed or enriched on the way in:
the backfill finds them all, as on a deployment that predates the feature). Then it runs
``feedback.insights.backfill.insights_backfill`` (filing, then enriching in batches), the
function the command calls, with the engine's model already loaded (its load time is printed
apart).

Printed: the load, filing and enrichment times, comments per second (wall and CPU), the peak
RSS of the process (``getrusage``) before and after the backfill, and with ``--tracemalloc``
the peak of the allocations traced during it (numpy reports its buffers to tracemalloc too;
tracing slows the run, so the times of such a run are not the figure). The last line is one
JSON object. On a shared machine the wall time depends on the load: the CPU time beside it
does much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from bench.common import drop_database, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DB = "bench_insights_backfill"
BROKER = "redis://127.0.0.1:6379/13"


def _rss_mb() -> float:
    # ru_maxrss: the process's peak so far, in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _seed(db: str, n: int) -> None:
    """The database, migrated, with customers and touchpoints; then n commented answers."""
    from bench import seed as seeding

    recreate_database(db)
    seeding.seed(
        db,
        {"customers": 2000, "interactions": 200, "responses": 0, "tickets": 0},
        seeding.SEED,
    )
    from django.utils import timezone

    from customers.models import Customer
    from feedback.insights.engine_data import load_labelled
    from feedback.surveys.models import Response, Survey
    from feedback.surveys.scoring import categorize
    from touchpoints.models import Touchpoint

    texts = [row.text for row in load_labelled()]
    survey = Survey.objects.filter(kind="nps").first()
    if survey is None:
        raise SystemExit("bench.seed made no NPS survey")
    customers = list(Customer.objects.values_list("id", flat=True)[:2000])
    touchpoints = list(Touchpoint.objects.values_list("id", flat=True))
    now = timezone.now()
    for start in range(0, n, 5000):
        rows = []
        for i in range(start, min(n, start + 5000)):
            score = i % 11
            rows.append(
                Response(
                    survey=survey,
                    kind="nps",
                    customer_id=customers[i % len(customers)],
                    touchpoint_id=touchpoints[i % len(touchpoints)] if touchpoints else None,
                    score=score,
                    category=categorize("nps", score),
                    # Distinct texts: no cache anywhere can answer a repeat.
                    comment=f"{texts[i % len(texts)]} (#{i})",
                    submitted_at=now - timedelta(minutes=i % (60 * 24 * 90)),
                )
            )
        Response.objects.bulk_create(rows)
    print(f"seeded {db}: {n:,} commented answers", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="comments to backfill (issue 18: 100000)")
    parser.add_argument("--batch", type=int, default=64, help="texts per embedding call")
    parser.add_argument("--db", default=DB, help=f"the database to make (default {DB})")
    parser.add_argument("--tracemalloc", action="store_true", help="trace allocations too")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("n: 1 or more")
    # Enrichment tasks are never sent here (bulk_create sends no signal), but settings read a
    # broker URL: a bench one (or the caller's), never a deployment's.
    os.environ.setdefault("CELERY_BROKER_URL", BROKER)
    _seed(args.db, args.n)
    from django.db import connections

    from feedback.insights.backfill import insights_backfill
    from feedback.insights.engine import get_engine

    try:
        t = time.perf_counter()
        get_engine().embed(["warm up"])  # the model's load, apart from the backfill's time
        load_seconds = time.perf_counter() - t
        rss_before = _rss_mb()
        cpu = _cpu_seconds()
        if args.tracemalloc:
            tracemalloc.start()
        t = time.perf_counter()
        result = insights_backfill(batch=args.batch, progress=False)
        wall = time.perf_counter() - t
        traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        tracemalloc.stop()
        cpu = _cpu_seconds() - cpu
        rss_after = _rss_mb()
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(args.db)
    figures = {
        "bench": "insights_backfill",
        "comments": args.n,
        "filed": result.filed,
        "enriched": result.enriched,
        "batch": args.batch,
        "model_load_s": round(load_seconds, 1),
        "wall_s": round(wall, 1),
        "filing_s": round(wall - result.seconds, 1),
        "enrich_s": round(result.seconds, 1),
        "comments_per_s": round(result.enriched / wall, 1) if wall else None,
        "cpu_s": round(cpu, 1),
        "comments_per_cpu_s": round(result.enriched / cpu, 1) if cpu else None,
        "peak_rss_mb_before": round(rss_before),
        "peak_rss_mb": round(rss_after),
        "tracemalloc_peak_mb": None if traced_peak is None else round(traced_peak / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"{result.enriched:,} of {args.n:,} comments: {wall:.1f} s wall "
        f"(filing {figures['filing_s']} s, enrichment {result.seconds:.1f} s), "
        f"{figures['comments_per_s']} comments/s; CPU {cpu:.1f} s "
        f"({figures['comments_per_cpu_s']} comments per CPU second); peak RSS "
        f"{rss_before:.0f} MB before (model loaded) → {rss_after:.0f} MB; model load "
        f"{load_seconds:.1f} s"
        + (
            ""
            if traced_peak is None
            else f"; traced allocations' peak {traced_peak / 2**20:.0f} MB"
        )
    )
    print(json.dumps(figures))
    return 0 if result.enriched == args.n else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
