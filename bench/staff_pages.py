"""Every staff page at 10,000 answers and at a million, in the same run: is it flat?

``python -m bench.staff_pages [--quick] [--reps N] [--keep] [--keep-rollups] [--small-db NAME]
[--big-db NAME]``

1. Two databases seeded by ``bench.seed`` (fixed seed) in the proportions of issue 20's seed
   command (customers and tickets a fifth of the answers, one interaction and one invitation
   per answer): ``staff_pages_small`` with 10,000 answers and ``staff_pages_big`` with
   1,000,000 (--quick: ``staff_pages_quick``, 200,000). The tables bench.seed leaves empty
   are filled here in proportion, by SQL from the seeded rows: an outbound email per
   invitation, two events and a message per ticket, an inbound email per ten invitations, a
   webhook delivery per answer, an audit entry per customer. Each database is reused when it
   holds those counts; ``migrate`` and ``rollups_rebuild`` run on it either way (new indexes,
   new rollup tables). ``--small-db``/``--big-db`` name other databases (``--keep`` keeps them).
2. Each page of issue 20's table (the dashboard at 90 and 365 days, the journey map, the
   metrics API, the triage queue and the ticket list) and every changelist over a big table,
   through Django's test Client as a signed-in superuser (full middleware stack), ``--reps``
   rounds (default 5) of one warm-up and one timed request on each database in turn, the
   order alternating; the median per page on each database.
3. Per page: ``ratio = median on the big database / median on the small one``, target
   <= 1.5; ``ok`` when every page meets it. The last line printed is one JSON object.
4. ``--explain``: each page's three slowest statements on the big database, with
   ``EXPLAIN (ANALYZE, BUFFERS)``, written to bench/explain/staff_pages.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import admin as admin_bench
from bench import seed as seeding

TARGET = 1.5
SMALL_DB = "staff_pages_small"
BIG_DB = "staff_pages_big"
QUICK_DB = "staff_pages_quick"
EXPLAIN_FILE = "bench/explain/staff_pages.txt"
PAGES = [
    "/admin/dashboard/",
    "/admin/dashboard/?period=365",
    "/admin/journey-map/",
    "/api/v1/metrics/",
    "/admin/queue/",
    "/admin/feedback/ticket/",
    "/admin/feedback/response/",
    "/admin/feedback/invitation/",
    "/admin/touchpoints/interaction/",
    "/admin/customers/customer/",
    "/admin/feedback/outboundemail/",
    "/admin/feedback/inboundemail/",
    "/admin/feedback/ticketevent/",
    "/admin/feedback/ticketmessage/",
    "/admin/cxcrm/webhookdelivery/",
    "/admin/customers/auditentry/",
]
# The tables bench.seed does not fill, filled in proportion to the ones it does.
EXTRA_SQL = [
    """INSERT INTO feedback_outboundemail (to_email, from_email, subject, kind, status,
        message_id, body_text, body_html, headers, error, created_at, sent_at, customer_id,
        invitation_id)
       SELECT 'c' || i.customer_id || '@example.com', 'cx@example.com', 'How did we do?',
        'survey', 'sent', '<inv' || i.id || '@cx.example>', '', '', '{}', '', i.scheduled_for,
        i.scheduled_for, i.customer_id, i.id FROM feedback_invitation i""",
    """INSERT INTO feedback_ticketevent (action, from_value, to_value, note, created_at,
        ticket_id)
       SELECT a, '', 'x', '', t.created_at + (n || ' hours')::interval, t.id
       FROM feedback_ticket t, (VALUES ('created', 0), ('status', 5)) AS e(a, n)""",
    """INSERT INTO feedback_ticketmessage (direction, from_email, body, message_id, in_reply_to,
        created_at, ticket_id)
       SELECT 'outbound', '', 'We are sorry.', '<t' || t.id || '@cx.example>', '',
        t.created_at + interval '1 hour', t.id FROM feedback_ticket t""",
    """INSERT INTO feedback_inboundemail (received_at, source, status, note, from_email, "to",
        envelope_to, subject, message_id, in_reply_to, "references", size, raw, text,
        invitation_id, attempts)
       SELECT i.scheduled_for + interval '1 day', 'webhook', 'matched_response', '',
        'c' || i.customer_id || '@example.com', '', '', 'Re: How did we do?',
        '<in' || i.id || '@mail.example>', '', '', 10, '\\x00', 'ok', i.id, 1
       FROM feedback_invitation i WHERE i.id % 10 = 0""",
    """INSERT INTO cxcrm_webhookendpoint (url, description, events, secret, active, owner_email,
        disabled_reason, created_at, updated_at)
       VALUES ('https://hooks.example.com/cx', '', '["response.created"]', 'whsec_x', true, '',
        '', now(), now())""",
    """INSERT INTO cxcrm_webhookdelivery (event, message_id, payload, status, attempts,
        response_body, error, created_at, endpoint_id, subject)
       SELECT 'response.created', 'msg_' || r.id, '{}', 'delivered', 1, '', '', r.submitted_at,
        (SELECT max(id) FROM cxcrm_webhookendpoint), 'response_' || r.id
       FROM feedback_response r""",
    """INSERT INTO customers_auditentry (at, actor_label, action, object_type, object_id,
        channel, summary)
       SELECT c.created_at, 'admin', 'viewed', 'customer', c.id::text, 'admin', ''
       FROM customers_customer c""",
]


def counts_for(answers: int) -> dict[str, int]:
    """The issue's proportions: 200,000 customers and tickets to 1,000,000 answers."""
    return {
        "customers": answers // 5,
        "interactions": answers,
        "responses": answers,
        "tickets": answers // 5,
    }


def fill_extras(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{seeding.PG}/{name}") as conn:
        row = conn.execute("SELECT count(*) FROM feedback_outboundemail").fetchone()
        if row and row[0]:
            return
        started = time.perf_counter()
        for sql in EXTRA_SQL:
            conn.execute(sql)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        print(f"  extra tables filled in {time.perf_counter() - started:.1f}s", flush=True)


def prepare(name: str, counts: dict[str, int], *, rebuild: bool = True) -> float:
    """Seconds spent seeding (0 when reused); the database migrated to the current code.
    `rebuild` False keeps a reused database's rollups (they are current unless the rollup
    code or tables changed since they were built)."""
    started = time.perf_counter()
    if admin_bench.existing_counts(name) == counts:
        print(f"reusing {name} ({counts['responses']:,} answers)", flush=True)
        seeding.migrate(name)
        # A database seeded before a rollup table existed has it empty: the pages would show
        # (and time) nothing. bench.seed rebuilds after seeding, so a fresh one needs no more.
        if rebuild:
            seeding.rollups_rebuild(name)
        admin_bench.configure(name)
    else:
        admin_bench.prepare(name, counts)
    fill_extras(name)
    return time.perf_counter() - started


def timed_get(client: Any, url: str) -> float:
    started = time.perf_counter()
    reply = client.get(url)
    elapsed = time.perf_counter() - started
    if reply.status_code not in (200, 302):
        raise RuntimeError(f"{url}: {reply.status_code} {reply.content[:300]!r}")
    return elapsed * 1000


def use(name: str) -> None:
    """Switch Django to database ``name``. The cache (locmem, one per process) is emptied: a
    filter's or a figure's cached value from one database must not be timed on the other."""
    from django.core.cache import cache

    admin_bench.connect(name)
    cache.clear()


def measure(clients: dict[str, Any], dbs: dict[str, str], url: str, reps: int) -> dict[str, Any]:
    """Median ms per side and the big side's query count. The sides take turns, one timed
    request each after a warm-up (reconnection, cache), in alternating order (small, big, big,
    small…): a load that comes and goes on a shared machine then falls on both sides alike,
    where timing all of one database before the other put it on one side only."""
    runs: dict[str, list[float]] = {side: [] for side in dbs}
    for rep in range(reps):
        order = list(dbs) if rep % 2 == 0 else list(reversed(dbs))
        for side in order:
            use(dbs[side])
            timed_get(clients[side], url)
            runs[side].append(timed_get(clients[side], url))
    queries = {}
    for side, name in dbs.items():
        use(name)
        timed_get(clients[side], url)
        queries[side] = len(admin_bench.captured(clients[side], url))
    return {side: (statistics.median(runs[side]), queries[side]) for side in dbs}


def write_explain(clients: dict[str, Any], big_db: str, path: Path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each page's three slowest statements on the big database
    (the session and user look-ups left out): where a page's time goes as the data grows."""
    use(big_db)
    lines = [f"EXPLAIN (ANALYZE, BUFFERS) on {big_db} (python -m bench.staff_pages --explain)", ""]
    for url in PAGES:
        timed_get(clients["big"], url)
        queries = [
            q
            for q in admin_bench.captured(clients["big"], url)
            if q["sql"].lstrip().upper().startswith("SELECT")
            and not re.search(r'FROM "(django_session|auth_user)"', q["sql"])
        ]
        queries.sort(key=lambda q: float(q["time"]), reverse=True)
        for q in queries[:3]:
            lines += [f"== {url} ({q['time']} s)", q["sql"], "", admin_bench.explain(q["sql"]), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"EXPLAIN output written to {path.relative_to(admin_bench.ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200,000 answers, not 1,000,000")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--explain", action="store_true", help=f"write the big side's plans to {EXPLAIN_FILE}"
    )
    parser.add_argument(
        "--keep-rollups",
        action="store_true",
        help="do not rebuild a reused database's rollups (they must be current)",
    )
    parser.add_argument("--small-db", default=SMALL_DB, help="the 10,000-answer database")
    parser.add_argument("--big-db", help=f"the big database (default {BIG_DB}, --quick {QUICK_DB})")
    args = parser.parse_args()
    small_db = args.small_db
    big_db = args.big_db or (QUICK_DB if args.quick else BIG_DB)
    big_answers = 200_000 if args.quick else 1_000_000
    small, big = counts_for(10_000), counts_for(big_answers)
    reps = max(3, args.reps)
    try:
        seed_s = prepare(small_db, small, rebuild=not args.keep_rollups)
        seed_s += prepare(big_db, big, rebuild=not args.keep_rollups)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client, override_settings

        def signed_in() -> Any:
            client = Client()
            client.force_login(get_user_model().objects.get(username="admin"))
            return client

        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        results: dict[str, dict[str, Any]] = {}
        # Other jobs on a shared 2-core machine skew one side more than the other: say how busy
        # it was (the 1-minute load average before and after the timed requests).
        load_before = os.getloadavg()[0]
        dbs = {"small": small_db, "big": big_db}
        with override_settings(STORAGES=storages):
            clients = {}
            for side, name in dbs.items():  # each session lives in its own database
                use(name)
                clients[side] = signed_in()
            for url in PAGES:
                timed_get(clients["big"], url)  # templates compiled, modules imported
                results[url] = measure(clients, dbs, url, reps)
            if args.explain:
                write_explain(clients, big_db, admin_bench.ROOT / EXPLAIN_FILE)
        pages = []
        for url in PAGES:
            (s_ms, s_q), (b_ms, b_q) = results[url]["small"], results[url]["big"]
            ratio = b_ms / s_ms
            ok = ratio <= TARGET
            pages.append(
                {
                    "page": url,
                    "small_ms": round(s_ms, 1),
                    "big_ms": round(b_ms, 1),
                    "queries": b_q,
                    "ratio": round(ratio, 2),
                    "ok": ok,
                }
            )
            print(
                f"{url:40} {s_ms:8.1f} ms ({s_q:2} q) -> {b_ms:8.1f} ms ({b_q:2} q)"
                f"  {ratio:5.2f}x {'ok' if ok else 'MISSES'}"
            )
        print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
        worst = max(pages, key=lambda p: p["ratio"])
        result = {
            "bench": "staff_pages",
            "answers": big_answers,
            "small_answers": small["responses"],
            "reps": reps,
            "ours": worst["big_ms"],
            "baseline": worst["small_ms"],
            "ratio": worst["ratio"],
            "worst_page": worst["page"],
            "target": TARGET,
            "ok": all(p["ok"] for p in pages),
            "pages": pages,
            "seed_s": round(seed_s, 1),
            "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        print(json.dumps(result))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            seeding.drop_database(big_db)
            seeding.drop_database(small_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
