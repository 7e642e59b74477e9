"""NPS, CSAT and CES by touchpoint × month through /api/v1/metrics/, beside the same SQL by hand.

``python -m bench.metrics [--quick] [--db NAME] [--keep] [--reps N] [--explain]``

1. The database of ``bench.admin`` (``bench.seed``, fixed seed: 1,000,000 responses over
   2023-01-01 … 2026-01-01 at 12 touchpoints, answers to an NPS, a CSAT and a CES survey in
   turn; --quick 100,000), reused when it holds exactly those counts, then migrated (a reused
   database may predate the product's latest indexes), dropped at the end unless --keep.
   The period asked for runs from the first to the last day with answers (all of them: 37
   months, within the API's 3 × 366 days).
2. Ours: ``GET /api/v1/metrics/?since=…&until=…&group_by=touchpoint&bucket=month&fields=groups``
   through Django's test Client (the full middleware stack, DRF, the API key's authentication
   and throttle, the query's validation, ``feedback.reporting.metrics.breakdown_trends`` and the
   JSON
   renderer), with a read-scope key, DEBUG off. ``fields=groups`` asks for the grouped scores
   only, which is the question here; the default request also computes the period's scores,
   response rate and loop KPIs (six more queries, over the invitations and the tickets too):
   its median of three is reported beside, not in the ratio.
3. Baseline: the same aggregate written by hand, one statement through psycopg 3 on its own
   connection, and the same document built from its rows in plain Python (every touchpoint
   with answers, every month of the period, every kind; n, enough, value, margin and the
   shares from the formulas of the design, written out here), serialised with ``json.dumps``.
   Both sides end with the JSON bytes an integrator would receive, so both pay for the
   figures, not only for the rows.
4. Before timing, both documents are compared (integers exactly, floats to 1e-9), and one
   touchpoint's months are compared with the dashboard's own month trend filtered to that
   touchpoint (``feedback.reporting.metrics.score_trends``); any difference stops the bench (exit
   1).
5. Two warm-ups each, then ``--reps`` (default 7, at least 5) alternately; medians.
   ``ratio = ours ms / baseline ms``, smaller is better, target ≤ 1.5.
6. With --explain, ``EXPLAIN (ANALYZE, BUFFERS)`` of our grouped query (as captured), of the
   same without the partial index ``invitation_not_survey_idx`` (dropped in a transaction that
   is rolled back), of the form used before (a LEFT JOIN to every invitation, rows ordered by
   bucket) and of the baseline's statement go to bench/explain/metrics.txt.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bench import admin as admin_bench
from bench import seed as seeding
from bench.common import drop_database

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5
URL = "/api/v1/metrics/"
EXPLAIN_FILE = ROOT / "bench" / "explain" / "metrics.txt"
KINDS = ("nps", "csat", "ces")
# The answer categories by sentiment, as feedback.surveys.scoring defines them.
GOOD = ("promoter", "satisfied", "easy")
NEUTRAL = ("passive", "neutral")
BAD = ("detractor", "dissatisfied", "difficult")
MIN_SAMPLE = 30  # below this a score says "not enough answers"
Z95 = 1.96

# The hand-written statement: answers of the period by touchpoint, month (in the site's time
# zone) and kind, follow-up answers left out (they measure a ticket's recovery, not the
# touchpoint), the counts and sums every figure is computed from.
BASELINE_SQL = f"""
SELECT r.touchpoint_id,
       date_trunc('month', r.submitted_at AT TIME ZONE %(tz)s)::date AS month,
       r.kind,
       count(*) AS n,
       count(*) FILTER (WHERE r.category IN {GOOD!r}) AS good,
       count(*) FILTER (WHERE r.category IN {NEUTRAL!r}) AS neutral,
       count(*) FILTER (WHERE r.category IN {BAD!r}) AS bad,
       sum(r.score) AS score_sum,
       sum(r.score * r.score) AS score_sq_sum
  FROM feedback_response r
 WHERE r.submitted_at >= %(since)s AND r.submitted_at < %(until)s
   AND NOT EXISTS (SELECT 1 FROM feedback_invitation i
                    WHERE i.id = r.invitation_id AND i.purpose <> 'survey')
 GROUP BY 1, 2, 3
"""
# The product's query before this bench: each answer joined to its invitation to read its
# purpose, the groups ordered by bucket. Kept for --explain, to show what the anti-join, its
# partial index and the unordered grouping replaced.
PREVIOUS_SQL = f"""
SELECT date_trunc('month', r.submitted_at AT TIME ZONE %(tz)s) AS bucket, r.touchpoint_id,
       r.kind, count(r.id) AS n,
       count(r.id) FILTER (WHERE r.category IN {GOOD!r}) AS good,
       count(r.id) FILTER (WHERE r.category IN {NEUTRAL!r}) AS neutral,
       count(r.id) FILTER (WHERE r.category IN {BAD!r}) AS bad,
       sum(r.score) AS score_sum, sum(r.score * r.score) AS score_sq_sum
  FROM feedback_response r LEFT OUTER JOIN feedback_invitation i ON r.invitation_id = i.id
 WHERE (r.invitation_id IS NULL OR i.purpose = 'survey')
   AND r.submitted_at >= %(since)s AND r.submitted_at < %(until)s
 GROUP BY 2, 3, 1 ORDER BY 1
"""


# --- The baseline ------------------------------------------------------------------------------


def figures(
    kind: str, n: int, good: int, neutral: int, bad: int, s: int, sq: int
) -> dict[str, Any]:
    """One cell's figures from its counts: NPS = % good − % bad, CSAT = % good, CES = mean
    score; the margin is the 95 % confidence half-width of the value."""
    if n == 0:
        return {
            "n": 0,
            "enough": False,
            "value": None,
            "margin": None,
            "pct_good": None,
            "pct_neutral": None,
            "pct_bad": None,
            "mean": None,
        }
    p_good, p_bad = good / n, bad / n
    mean = s / n
    margin: float | None = None
    if kind == "nps":
        value = 100.0 * (good - bad) / n
        if n > 1:
            variance = p_good * (1 - p_good) + p_bad * (1 - p_bad) + 2 * p_good * p_bad
            margin = Z95 * math.sqrt(variance / n) * 100
    elif kind == "csat":
        value = 100.0 * good / n
        if n > 1:
            margin = Z95 * math.sqrt(p_good * (1 - p_good) / n) * 100
    else:
        value = mean
        if n > 1:
            sample_variance = max(sq - n * mean * mean, 0.0) / (n - 1)
            margin = Z95 * math.sqrt(sample_variance / n)
    return {
        "n": n,
        "enough": n >= MIN_SAMPLE,
        "value": value,
        "margin": margin,
        "pct_good": 100.0 * good / n,
        "pct_neutral": 100.0 * neutral / n,
        "pct_bad": 100.0 * bad / n,
        "mean": mean,
    }


def months(first: date, last: date) -> list[date]:
    """The first day of every month from the one holding ``first`` to the one holding ``last``."""
    found, day = [], first.replace(day=1)
    while day <= last:
        found.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def sql_params(since: date, until: date, tz: str) -> dict[str, Any]:
    """The period as the API reads it: from the start of ``since`` to the end of ``until``,
    local days of the site's time zone."""
    zone = ZoneInfo(tz)
    return {
        "tz": tz,
        "since": datetime.combine(since, time.min, tzinfo=zone),
        "until": datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone),
    }


def baseline(conn: Any, since: date, until: date, tz: str) -> bytes:
    """The grouped scores by hand: one statement, then the document, then its JSON."""
    rows = conn.execute(BASELINE_SQL, sql_params(since, until, tz)).fetchall()
    cells: dict[Any, dict[tuple[date, str], dict[str, Any]]] = {}
    for touchpoint, month, kind, *counts in rows:
        cells.setdefault(touchpoint, {})[month, kind] = figures(kind, *counts)
    empty = figures("", 0, 0, 0, 0, 0, 0)
    period = months(since, until)
    groups = [
        {
            "key": touchpoint,
            "buckets": [
                {
                    "key": month.isoformat(),
                    "scores": {kind: found.get((month, kind), empty) for kind in KINDS},
                }
                for month in period
            ],
        }
        for touchpoint, found in cells.items()
    ]
    body = {"since": since.isoformat(), "until": until.isoformat(), "groups": groups}
    return json.dumps(body, separators=(",", ":")).encode()


# --- Ours --------------------------------------------------------------------------------------


def ours_url(since: date, until: date) -> str:
    query = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "group_by": "touchpoint",
        "bucket": "month",
        "fields": "groups",
    }
    return f"{URL}?{urlencode(query)}"


def ours(client: Any, url: str) -> bytes:
    reply = client.get(url)
    if reply.status_code != 200:
        raise RuntimeError(f"{url}: {reply.status_code} {reply.content[:300]!r}")
    return reply.content


# --- Checks ------------------------------------------------------------------------------------


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON documents differ: integers, strings and nulls exactly, floats to 1e-9."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a)} vs {sorted(b)}"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{where}[{i}]")
        ]
    if isinstance(a, float) or isinstance(b, float):
        ok = (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        )
        return [] if ok else [f"{where}: {a!r} vs {b!r}"]
    return [] if a == b and type(a) is type(b) else [f"{where}: {a!r} vs {b!r}"]


def check(ours_body: bytes, baseline_body: bytes, since: date, until: date) -> int:
    """Both documents hold the same numbers, and they are the dashboard's; returns the number
    of cells (touchpoint × month × kind). Raises on any difference."""
    from feedback.reporting import metrics

    mine, theirs = json.loads(ours_body), json.loads(baseline_body)
    by_key = {
        name: {
            "since": d["since"],
            "until": d["until"],
            "groups": {g["key"]: g for g in d["groups"]},
        }
        for name, d in (("ours", mine), ("baseline", theirs))
    }
    found = differences(by_key["ours"], by_key["baseline"], "body")
    cells = sum(len(g["buckets"]) for g in mine["groups"]) * len(KINDS)
    if not cells:
        raise RuntimeError("no answers in the period: nothing was compared")
    touchpoint = mine["groups"][0]["key"]
    f = metrics.MetricFilters.between(since, until, touchpoints=(touchpoint,))
    dashboard = {
        kind: [(p.start.isoformat(), p.summary.n, p.summary.value) for p in points]
        for kind, points in metrics.score_trends(f, "month").items()
    }
    api = {
        kind: [
            (b["key"], b["scores"][kind]["n"], b["scores"][kind]["value"])
            for b in mine["groups"][0]["buckets"]
        ]
        for kind in KINDS
    }
    found += differences(api, dashboard, f"dashboard(touchpoint {touchpoint})")
    if found:
        raise RuntimeError(
            f"the numbers differ in {len(found)} places:\n  " + "\n  ".join(found[:20])
        )
    return cells


# --- EXPLAIN -----------------------------------------------------------------------------------


def write_explain(conn: Any, ours_sql: str, params: dict[str, Any], responses: int) -> None:
    def plan(sql: str, args: dict[str, Any] | None = None) -> str:
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", args).fetchall()
        return "\n".join(row[0] for row in rows)

    sections = [("ours: the API's grouped query, as captured", ours_sql, plan(ours_sql))]
    with conn.transaction(force_rollback=True):
        conn.execute("DROP INDEX invitation_not_survey_idx")
        sections.append(
            ("ours without the partial index invitation_not_survey_idx", ours_sql, plan(ours_sql))
        )
    sections.append(
        (
            "before: a LEFT JOIN to every invitation, and ORDER BY bucket",
            PREVIOUS_SQL,
            plan(PREVIOUS_SQL, params),
        )
    )
    sections.append(("baseline: by hand", BASELINE_SQL, plan(BASELINE_SQL, params)))
    shown = ", ".join(f"{k}={v}" for k, v in params.items())
    lines = [
        f"EXPLAIN (ANALYZE, BUFFERS) on {responses:,} responses (python -m bench.metrics "
        f"--explain); the hand-written statements' parameters: {shown}",
        "",
    ]
    for title, sql, text in sections:
        lines += [f"== {title}", sql.strip(), "", text, ""]
    EXPLAIN_FILE.parent.mkdir(parents=True, exist_ok=True)
    EXPLAIN_FILE.write_text("\n".join(lines))
    print(f"EXPLAIN output written to {EXPLAIN_FILE.relative_to(ROOT)}")


# --- Run ---------------------------------------------------------------------------------------


def period() -> tuple[date, date]:
    """The first and last local days with answers."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from feedback.surveys.models import Response

    row = Response.objects.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    if row["first"] is None:
        raise RuntimeError("the database holds no answers")
    return timezone.localdate(row["first"]), timezone.localdate(row["last"])


def timed(fn: Any, *args: Any) -> tuple[float, bytes]:
    started = perf_counter()
    result = fn(*args)
    return (perf_counter() - started) * 1000, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 responses")
    parser.add_argument("--db", default=None)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help=f"write {EXPLAIN_FILE.name}")
    args = parser.parse_args()
    name = args.db or ("cxcrm_scale_quick" if args.quick else "cxcrm_scale")
    if name in seeding.REFUSED:
        parser.error(f"refusing to use the database {name!r}")
    reps = max(5, args.reps)
    counts = admin_bench.counts_for(args.quick)
    os.environ.update(
        {"CXCRM_API_RATE_READ": "1000000/minute", "CXCRM_API_RATE_WRITE": "1000000/minute"}
    )
    try:
        seed_s = admin_bench.prepare(name, counts)
        import psycopg
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from cxcrm.api.keys import api_key_create
        from feedback.surveys.figures.query import MAX_DAYS

        call_command("migrate", verbosity=0, interactive=False)
        since, until = period()
        if (until - since).days + 1 > MAX_DAYS:
            raise RuntimeError(f"the answers span {until - since}: more than the API's {MAX_DAYS}")
        key = api_key_create(name="bench-metrics", scopes="read").key
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        url = ours_url(since, until)
        conn = psycopg.connect(f"{seeding.PG}/{name}", autocommit=True)
        hand = (conn, since, until, settings.TIME_ZONE)

        cells = check(ours(client, url), baseline(*hand), since, until)
        for _ in range(2):  # connections, plans, imports
            ours(client, url)
            baseline(*hand)
        ours_ms, baseline_ms = [], []
        for _ in range(reps):
            ours_ms.append(timed(ours, client, url)[0])
            baseline_ms.append(timed(baseline, *hand)[0])
        default_url = url.replace("&fields=groups", "")
        default_ms = statistics.median(timed(ours, client, default_url)[0] for _ in range(3))
        with CaptureQueriesContext(connection) as ctx:
            ours(client, url)
        queries = len(ctx.captured_queries)
        if args.explain:
            grouped = [q["sql"] for q in ctx.captured_queries if "feedback_response" in q["sql"]]
            params = sql_params(since, until, settings.TIME_ZONE)
            write_explain(conn, grouped[0], params, counts["responses"])
        conn.close()

        mine, theirs = statistics.median(ours_ms), statistics.median(baseline_ms)
        ratio = mine / theirs
        print(
            f"/api/v1/metrics/ by touchpoint × month on {counts['responses']:,} responses "
            f"({since} … {until}, {cells:,} cells, the same numbers both sides), median of "
            f"{reps}: ours {mine:.1f} ms ({queries} queries), by hand {theirs:.1f} ms"
        )
        print(
            f"  the default request (all figures and the grouping): {default_ms:.1f} ms "
            "(median of 3, not in the ratio)"
        )
        verdict = "meets" if ratio <= TARGET else "MISSES"
        print(f"  ratio ours/baseline {ratio:.2f} {verdict} the target ≤ {TARGET}")
        print(
            json.dumps(
                {
                    "bench": "metrics",
                    "responses": counts["responses"],
                    "since": since.isoformat(),
                    "until": until.isoformat(),
                    "cells": cells,
                    "reps": reps,
                    "ours": round(mine, 2),
                    "baseline": round(theirs, 2),
                    "ratio": round(ratio, 3),
                    "target": TARGET,
                    "ok": ratio <= TARGET,
                    "ours_all_ms": [round(v, 1) for v in ours_ms],
                    "baseline_all_ms": [round(v, 1) for v in baseline_ms],
                    "ours_queries": queries,
                    "default_request_ms": round(default_ms, 2),
                    "seed_s": round(seed_s, 1),
                }
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
