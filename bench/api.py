"""API throughput on PostgreSQL, each figure beside a baseline measured in the same run.

``python -m bench.api [--quick] [--database NAME]``

1. ``ingest``: N interactions (100,000; --quick 10,000) POSTed to /api/v1/interactions/ in
   lists of 1,000 with a write key, through Django's full WSGI stack in this process (auth,
   throttle, parsing, validation, the bulk service with the survey rules: an active NPS survey
   is triggered by the touchpoint's stage, so invitations are scheduled as in production),
   beside psycopg ``COPY`` of the same rows into the same table. Target ratio ≥ 0.2.
2. ``ticket_list``: M tickets (1,000,000; --quick 100,000) made with one INSERT … SELECT
   generate_series; GET /api/v1/tickets/?page_size=100 following the cursor for P pages,
   beside a plain view (``values()`` of the same columns and join, keyset pagination,
   ``JsonResponse``) walking the same pages through the same stack. Target ratio ≥ 0.33.

The database (default ``cxcrm_api``) is dropped and created afresh and dropped at the end.
The last lines printed are one JSON object per figure, each with ``bench``, ``ratio``, ``target``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import drop_database, recreate_database

ROOT = Path(__file__).resolve().parents[1]
SEED = 20250301
BATCH = 1000
INGEST_TARGET = 0.2
LIST_TARGET = 0.33


def configure(name: str, var_dir: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cxcrm.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            # Production-like: DEBUG off (no query log kept in memory).
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "testserver",
            "SITE_URL": "http://testserver",
            "CXCRM_VAR_DIR": var_dir,
            "CXCRM_API_RATE_READ": "1000000/minute",
            "CXCRM_API_RATE_WRITE": "1000000/minute",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "ERROR",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.CACHES["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    call_command("migrate", verbosity=0, interactive=False)


def seed_catalogue(customers: int) -> tuple[list[int], list[str], int]:
    from customers.models import Customer
    from feedback.surveys.models import Survey
    from touchpoints.models import JourneyStage, Touchpoint

    touchpoint = Touchpoint.objects.create(
        name="Checkout", slug="checkout", stage=JourneyStage.ORDER, channel="web"
    )
    Survey.objects.create(
        name="After purchase", slug="after-purchase", kind="nps", trigger_stage=JourneyStage.ORDER
    )
    made = Customer.objects.bulk_create(
        [
            Customer(external_id=f"c-{n:07d}", email=f"c{n}@example.com", name=f"Customer {n}")
            for n in range(customers)
        ],
        batch_size=5000,
    )
    return [c.pk for c in made], [c.external_id or "" for c in made], touchpoint.pk


def interaction_rows(n: int, customer_ids: list[int], external_ids: list[str]) -> list[dict]:
    rng = random.Random(SEED)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        c = rng.randrange(len(customer_ids))
        rows.append(
            {
                "customer_index": c,
                "source": "shop",
                "external_id": f"order-{i:08d}",
                "occurred_at": (start + timedelta(minutes=i)).isoformat(),
                "order_ref": f"A-{i}",
                "amount": f"{rng.randrange(100, 50000) / 100:.2f}",
                "currency": "EUR",
                "metadata": {"basket": rng.randrange(1, 9)},
            }
        )
    return rows


def bench_copy(rows: list[dict], customer_ids: list[int], touchpoint_id: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.connection
        with (
            raw.cursor() as c,
            c.copy(
                "COPY touchpoints_interaction (customer_id, touchpoint_id, occurred_at, source, "
                "external_id, order_ref, amount, currency, metadata, created_at) FROM STDIN"
            ) as copy,
        ):
            now = datetime.now(UTC)
            for r in rows:
                copy.write_row(
                    (
                        customer_ids[r["customer_index"]],
                        touchpoint_id,
                        r["occurred_at"],
                        r["source"],
                        r["external_id"],
                        r["order_ref"],
                        r["amount"],
                        r["currency"],
                        json.dumps(r["metadata"]),
                        now,
                    )
                )
        raw.commit()
    return time.perf_counter() - started


def bench_endpoint(rows: list[dict], external_ids: list[str], key: str) -> tuple[float, int]:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    bodies = []
    for start in range(0, len(rows), BATCH):
        items = []
        for r in rows[start : start + BATCH]:
            item = {k: v for k, v in r.items() if k != "customer_index"}
            item["customer_external_id"] = external_ids[r["customer_index"]]
            item["touchpoint"] = "checkout"
            items.append(item)
        # Serialised beforehand: the client's encoding is not the server's work.
        bodies.append(json.dumps(items))
    warm_up(client, rows[0], external_ids)
    replies = []
    # The client's data (every row, as dicts) lives in the server's process here, which a
    # server would not hold: frozen, so the garbage collector's full passes during the run
    # do not walk it (what gc.freeze() after start-up does in a pre-forking server).
    gc.freeze()
    started = time.perf_counter()
    for body in bodies:
        reply = client.post("/api/v1/interactions/", body, content_type="application/json")
        replies.append((reply.status_code, reply.content))
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    # Checked after the clock stops, as the bodies were encoded before it started: reading
    # the answers is the client's work.
    invited = 0
    for status, content in replies:
        if status != 200:
            raise RuntimeError(f"ingest failed: {status} {content[:500]!r}")
        invited += sum(r["invitations"] for r in json.loads(content)["results"])
    return elapsed, invited


def warm_up(client: Any, row: dict, external_ids: list[str]) -> None:
    """One POST before the clock, as a server that has answered a request: the URLconf and
    the modules a request imports on first use (~0.3 s) are loaded. Its row is removed."""
    from touchpoints.models import Interaction

    item = {k: v for k, v in row.items() if k != "customer_index"}
    item |= {
        "customer_external_id": external_ids[row["customer_index"]],
        "touchpoint": "checkout",
        "source": "bench-warm-up",
    }
    reply = client.post("/api/v1/interactions/", [item], content_type="application/json")
    if reply.status_code != 200:
        raise RuntimeError(f"warm-up failed: {reply.status_code} {reply.content[:500]!r}")
    from feedback.surveys.models import Invitation

    Invitation.objects.filter(interaction__source="bench-warm-up").delete()
    Interaction.objects.filter(source="bench-warm-up").delete()


def truncate_interactions() -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("TRUNCATE feedback_invitation, touchpoints_interaction CASCADE")


def seed_tickets(m: int, customers: int) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO feedback_ticket (customer_id, touchpoint_id, source, subject, status,
                priority, assignee_id, due_at, created_at, updated_at, resolution)
            SELECT (SELECT min(id) FROM customers_customer) + (g %% %s),
                   (SELECT min(id) FROM touchpoints_touchpoint),
                   'response', 'NPS ' || (g %% 7) || ' from customer ' || g,
                   (ARRAY['new','open','pending'])[1 + g %% 3], 1 + g %% 4,
                   CASE WHEN g %% 2 = 0 THEN (SELECT min(id) FROM auth_user) END,
                   now() + (g %% 96) * interval '1 hour', now() - g * interval '1 second',
                   now(), ''
            FROM generate_series(1, %s) AS g
            """,
            [customers, m],
        )
        c.execute("ANALYZE feedback_ticket")


def baseline_urls() -> Any:
    """A URLconf with the plain view beside the API (the bench's own; the product's is
    untouched)."""
    import types

    from django.http import HttpRequest, JsonResponse
    from django.urls import include, path

    from feedback.tickets.models import Ticket

    fields = [
        "id",
        "customer_id",
        "response_id",
        "touchpoint_id",
        "source",
        "subject",
        "status",
        "priority",
        "assignee__username",
        "due_at",
        "first_contact_at",
        "resolved_at",
        "escalated_at",
        "root_cause_id",
        "resolution",
        "recovered",
        "created_at",
        "updated_at",
    ]

    def plain(request: HttpRequest) -> JsonResponse:
        tickets = Ticket.objects.order_by("-id")
        before = request.GET.get("before")
        if before:
            tickets = tickets.filter(id__lt=int(before))
        rows = list(tickets.values(*fields)[:100])
        return JsonResponse({"results": rows, "next": rows[-1]["id"] if rows else None})

    module = types.ModuleType("bench_api_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("plain/tickets/", plain),
        path("", include("cxcrm.urls")),
    ]
    sys.modules["bench_api_urls"] = module
    return module


def bench_list(key: str, pages: int, reps: int = 5) -> tuple[float, float, list[float]]:
    """Seconds to walk ``pages`` pages through the API and through the plain view: ``reps``
    repetitions, the two walked back to back in each; the medians, and each repetition's
    ratio (plain / API)."""
    from django.test import Client, override_settings

    baseline_urls()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    def walk_api() -> float:
        started = time.perf_counter()
        url = "/api/v1/tickets/?page_size=100"
        for _ in range(pages):
            reply = client.get(url)
            assert reply.status_code == 200, reply.content[:300]
            data = reply.json()
            assert len(data["results"]) == 100
            url = data["next"].replace("http://testserver", "")
        return time.perf_counter() - started

    def walk_plain() -> float:
        started = time.perf_counter()
        url = "/plain/tickets/"
        for _ in range(pages):
            reply = client.get(url)
            data = reply.json()
            assert len(data["results"]) == 100
            url = f"/plain/tickets/?before={data['next']}"
        return time.perf_counter() - started

    with override_settings(ROOT_URLCONF="bench_api_urls"):
        for warm in range(2):  # connections, caches, imports
            client.get("/api/v1/tickets/?page_size=100")
            client.get("/plain/tickets/")
            del warm
        api_runs, plain_runs = [], []
        for rep in range(reps):
            # Alternate which goes first, so neither always follows the other's cache state.
            if rep % 2:
                plain_runs.append(walk_plain())
                api_runs.append(walk_api())
            else:
                api_runs.append(walk_api())
                plain_runs.append(walk_plain())
    ratios = [p / a for a, p in zip(api_runs, plain_runs, strict=True)]
    return statistics.median(api_runs), statistics.median(plain_runs), ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database", default="cxcrm_api")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reps", type=int, default=5, help="ingest repetitions, COPY and API back to back"
    )
    parser.add_argument("--only", choices=["ingest", "ticket_list"], help="run one figure")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    n = 10_000 if args.quick else 100_000
    m = 100_000 if args.quick else 1_000_000
    pages = 50 if args.quick else 200

    recreate_database(args.database)
    var_dir = tempfile.mkdtemp(prefix="bench-api-")
    try:
        configure(args.database, var_dir)
        from django.contrib.auth import get_user_model

        from cxcrm.api.keys import api_key_create
        from touchpoints.models import Interaction

        get_user_model().objects.create(username="agent", is_staff=True)
        customers = max(1000, n // 10)
        customer_ids, external_ids, touchpoint_id = seed_catalogue(customers)
        key = api_key_create(name="bench", scopes="read,write").key
        rows = interaction_rows(n, customer_ids, external_ids)

        figures = []
        if args.only != "ticket_list":
            copy_runs: list[float] = []
            api_runs: list[float] = []
            invited = 0
            for rep in range(args.reps):
                # Alternate which goes first; each starts from empty tables.
                for side in ("copy", "api") if rep % 2 == 0 else ("api", "copy"):
                    truncate_interactions()
                    if side == "copy":
                        copy_runs.append(bench_copy(rows, customer_ids, touchpoint_id))
                    else:
                        api_s, invited = bench_endpoint(rows, external_ids, key)
                        api_runs.append(api_s)
                    assert Interaction.objects.count() == n
            ratios = [c / a for c, a in zip(copy_runs, api_runs, strict=True)]
            copy_s, api_s = statistics.median(copy_runs), statistics.median(api_runs)
            ratio = statistics.median(ratios)
            ingest = {
                "bench": "ingest",
                "rows": n,
                "copy_rows_per_s": round(n / copy_s),
                "api_rows_per_s": round(n / api_s),
                "copy_s": round(copy_s, 3),
                "api_s": round(api_s, 3),
                "invitations_scheduled": invited,
                "ours": round(n / api_s),
                "baseline": round(n / copy_s),
                "ratio": round(ratio, 3),
                "ratios": [round(r, 3) for r in ratios],
                "reps": args.reps,
                "target": INGEST_TARGET,
                "ok": ratio >= INGEST_TARGET,
            }
            print(
                f"ingest: {n} interactions via the API in {api_s:.2f}s ({n / api_s:,.0f}/s, "
                f"{invited} invitations) vs COPY {copy_s:.2f}s ({n / copy_s:,.0f}/s), medians of "
                f"{args.reps}; ratios {', '.join(f'{r:.3f}' for r in ratios)}"
            )
            figures.append(ingest)

        if args.only != "ingest":
            seed_tickets(m, customers)
            api_list_s, plain_s, list_ratios = bench_list(key, pages)
            listing = {
                "bench": "ticket_list",
                "tickets": m,
                "pages": pages,
                "page_size": 100,
                "api_pages_per_s": round(pages / api_list_s, 1),
                "plain_pages_per_s": round(pages / plain_s, 1),
                "ours": round(pages / api_list_s, 1),
                "baseline": round(pages / plain_s, 1),
                "ratio": round(plain_s / api_list_s, 3),
                "ratios": [round(r, 3) for r in list_ratios],
                "reps": len(list_ratios),
                "target": LIST_TARGET,
                "ok": plain_s / api_list_s >= LIST_TARGET,
            }
            print(
                f"ticket list: {pages} pages of 100 of {m:,} tickets: API {pages / api_list_s:.1f} "
                f"pages/s vs values()+JsonResponse {pages / plain_s:.1f} pages/s"
            )
            figures.append(listing)
        for figure in figures:
            print(json.dumps(figure))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)


if __name__ == "__main__":
    main()
