"""A deep page of /api/v1/responses/ against its first page: cursor pagination stays flat.

``python -m bench.cursor [--quick] [--db NAME] [--keep] [--depth PAGES]``

1. The database of ``bench.admin`` (``bench.seed``; 1,000,000 responses, --quick 100,000),
   reused when it holds exactly those counts, dropped at the end unless --keep.
2. Ours: GET /api/v1/responses/?page_size=100 at page ``--depth`` (default 5,000, row
   500,000; --quick 500, row 50,000), with the cursor built for that position (the API's
   ordering is ``-id``: the position is the id of the last row of the page before, encoded as
   DRF's CursorPagination encodes it). The bench first checks that the cursor it builds for
   page 3 is the one the API's own ``next`` links lead to.
3. Baseline: the first page, same client, same key.
4. Two warm-ups each, then ``--reps`` (default 7, at least 5) alternately; medians.
   ``ratio = deep ms / first ms``, smaller is better, target ≤ 1.5.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
from typing import Any
from urllib.parse import urlencode

from bench import admin as admin_bench
from bench import seed as seeding

TARGET = 1.5
PAGE = 100
URL = "/api/v1/responses/"


def cursor_url(position: int) -> str:
    """DRF's CursorPagination.encode_cursor for offset 0, forward, at ``position``."""
    token = base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")
    return f"{URL}?{urlencode({'cursor': token, 'page_size': PAGE})}"


def page_url(depth: int) -> str:
    """The URL of page ``depth`` (1-based): after the first (depth - 1) * PAGE rows by -id."""
    from feedback.surveys.models import Response

    if depth == 1:
        return f"{URL}?page_size={PAGE}"
    ids = Response.objects.order_by("-id").values_list("id", flat=True)
    return cursor_url(ids[(depth - 1) * PAGE - 1])


def ids_of(client: Any, url: str) -> list[int]:
    reply = client.get(url)
    if reply.status_code != 200:
        raise RuntimeError(f"{url}: {reply.status_code} {reply.content[:300]!r}")
    return [row["id"] for row in reply.json()["results"]]


def check_cursor(client: Any) -> None:
    url = f"{URL}?page_size={PAGE}"
    for _ in range(2):
        url = client.get(url).json()["next"].replace("http://testserver", "")
    if ids_of(client, url) != ids_of(client, page_url(3)):
        raise RuntimeError("the built cursor for page 3 does not match the API's own")


def timed(client: Any, url: str) -> float:
    import time

    started = time.perf_counter()
    reply = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status_code != 200 or len(reply.json()["results"]) != PAGE:
        raise RuntimeError(f"{url}: {reply.status_code} {reply.content[:300]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 responses, page 500")
    parser.add_argument("--db", default=None)
    parser.add_argument("--depth", type=int, default=None, help="the deep page's number")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    name = args.db or ("cxcrm_scale_quick" if args.quick else "cxcrm_scale")
    if name in seeding.REFUSED:
        parser.error(f"refusing to use the database {name!r}")
    depth = args.depth or (500 if args.quick else 5_000)
    reps = max(5, args.reps)
    counts = admin_bench.counts_for(args.quick)
    if depth * PAGE > counts["responses"]:
        parser.error(f"page {depth} is past the {counts['responses']:,} responses")
    os.environ.update(
        {"CXCRM_API_RATE_READ": "1000000/minute", "CXCRM_API_RATE_WRITE": "1000000/minute"}
    )
    try:
        admin_bench.prepare(name, counts)
        from django.test import Client

        from cxcrm.api.keys import api_key_create

        key = api_key_create(name="bench-cursor", scopes="read").key
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        check_cursor(client)
        first, deep = page_url(1), page_url(depth)
        for _ in range(2):
            timed(client, first)
            timed(client, deep)
        first_ms, deep_ms = [], []
        for _ in range(reps):
            first_ms.append(timed(client, first))
            deep_ms.append(timed(client, deep))
        ours, baseline = statistics.median(deep_ms), statistics.median(first_ms)
        ratio = ours / baseline
        print(
            f"/api/v1/responses/ on {counts['responses']:,} responses, {PAGE} a page, median "
            f"of {reps}: page {depth:,} {ours:.1f} ms, first page {baseline:.1f} ms"
        )
        verdict = "meets" if ratio <= TARGET else "MISSES"
        print(f"  ratio deep/first {ratio:.2f} {verdict} the target ≤ {TARGET}")
        print(
            json.dumps(
                {
                    "bench": "cursor",
                    "responses": counts["responses"],
                    "depth_pages": depth,
                    "page_size": PAGE,
                    "reps": reps,
                    "ours": round(ours, 2),
                    "baseline": round(baseline, 2),
                    "ratio": round(ratio, 3),
                    "target": TARGET,
                    "ok": ratio <= TARGET,
                }
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            seeding.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
