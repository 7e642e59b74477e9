"""What keeping the rollups costs a writer: marks after commit (ours) or sums in the transaction.

``python -m bench.rollup_writes [--quick] [--n N] [--reps R] [--threads T ...] [--keep]``

Issue 20 asks whether the rollups should be updated "in the same transaction or by a task
after commit — measure which". Answers are recorded through the product's service
(``feedback.surveys.services.responses.response_record``, each in its own transaction, as the
survey page does) on PostgreSQL, three ways, in the same run:

- ``none``: the rollups' receiver disconnected: what an answer costs without rollups
  (the baseline).
- ``marks`` (ours): the receiver as shipped: a ``RollupMark`` row per day touched, inserted in
  the writer's transaction, and ``feedback.rollups_refresh`` enqueued after commit (to a real
  Redis broker, db 13, flushed; no worker runs, so the recompute is not on this clock — it
  runs on a worker, off the request).
- ``in_txn``: the receiver replaced by one that adds the answer to its five grains' rows
  (``feedback.reporting.models.Grain``) in the writer's transaction: an ``UPDATE … SET n =
  n + 1 …`` per row, or an INSERT when the row is missing. New answers only (an edit would
  also subtract the old values), so it is the cheapest form of "in the transaction".

Each round answers ``--n`` fresh invitations per way (rotating the order), with 1 and with 4
threads (``--threads``): with several writers, ``in_txn`` makes every answer of the day
update the same totals rows, which their row locks serialize until commit. Figures: answers
per second per way and thread count (median of the rounds), and ``ratio = marks / none``
(target ≥ 0.8: the rollups cost a writer at most a fifth of its throughput); the
``in_txn / none`` ratio beside it. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import drop_database, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DB = "bench_rollup_writes"
BROKER = "redis://127.0.0.1:6379/13"
TARGET = 0.8
WAYS = ("none", "marks", "in_txn")


def _setup(n_invitations: int) -> list[int]:
    """Seed customers and interactions (bench.seed), then open invitations with the ORM."""
    from bench import seed as seeding

    recreate_database(DB)
    seeding.seed(
        DB,
        {"customers": 2000, "interactions": n_invitations, "responses": 0, "tickets": 0},
        seeding.SEED,
    )
    from django.utils import timezone

    from feedback.surveys.models import Invitation, InvitationPurpose, InvitationState, Survey
    from touchpoints.models import Interaction

    now = timezone.now()
    survey = Survey.objects.get(kind="nps")
    rows = [
        Invitation(
            survey=survey,
            customer_id=customer,
            interaction_id=interaction,
            purpose=InvitationPurpose.SURVEY,
            state=InvitationState.SENT,
            scheduled_for=now - timedelta(hours=2),
            sent_at=now - timedelta(hours=1),
            expires_at=now + timedelta(days=14),
        )
        for interaction, customer in Interaction.objects.values_list("id", "customer_id")
    ]
    Invitation.objects.bulk_create(rows, batch_size=2000)
    return list(Invitation.objects.order_by("id").values_list("id", flat=True))


def _add_in_transaction(sender: Any, response: Any, **kwargs: Any) -> None:
    """The `in_txn` way: the answer's five grain rows updated where the answer is written."""
    from django.db.models import F

    from feedback.reporting.models import GRAIN_KEEPS, AnswerRollup
    from feedback.reporting.rollups import day_of
    from feedback.surveys.scoring import Sentiment, sentiment_of

    sentiment = sentiment_of(response.kind, response.score)
    adds = {
        "n": 1,
        "good": int(sentiment == Sentiment.GOOD),
        "neutral": int(sentiment == Sentiment.NEUTRAL),
        "bad": int(sentiment == Sentiment.BAD),
        "score_sum": response.score,
        "score_sq_sum": response.score**2,
    }
    full = {
        "survey_id": response.survey_id,
        "touchpoint_id": response.touchpoint_id,
        "segment": response.customer.segment if response.customer_id else None,
    }
    day = day_of(response.submitted_at)
    for grain, keeps in GRAIN_KEEPS.items():
        where = {"day": day, "grain": grain, "kind": response.kind}
        where.update({k: full[k] if k in keeps else None for k in full})
        rows = AnswerRollup.objects.filter(**where)
        if not rows.update(**{k: F(k) + v for k, v in adds.items()}):
            AnswerRollup.objects.create(**where, **adds)


def _way(name: str) -> None:
    from feedback.reporting import receivers
    from feedback.surveys.signals import response_changed

    response_changed.disconnect(dispatch_uid="reporting-rollups-response")
    response_changed.disconnect(dispatch_uid="bench-rollups-in-txn")
    if name == "marks":
        response_changed.connect(
            receivers._response_changed, dispatch_uid="reporting-rollups-response"
        )
    elif name == "in_txn":
        response_changed.connect(
            _add_in_transaction, dispatch_uid="bench-rollups-in-txn", weak=False
        )


def _answer(ids: list[int], threads: int) -> float:
    """Answer these invitations from `threads` threads; answers per second."""
    from django.db import connection, transaction

    from feedback.surveys.services.responses import response_record

    chunks = [ids[i::threads] for i in range(threads)]
    failures: list[BaseException] = []

    def work(chunk: list[int]) -> None:
        try:
            for i, invitation_id in enumerate(chunk):
                with transaction.atomic():
                    response_record(invitation_id=invitation_id, score=9 + i % 2)
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return len(ids) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 150, 3 rounds")
    parser.add_argument("--n", type=int, default=400, help="answers per way and round")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    n, reps = (150, 3) if args.quick else (args.n, args.reps)
    os.environ["CELERY_BROKER_URL"] = BROKER
    total = n * reps * len(WAYS) * len(args.threads)
    print(f"seeding {DB}: {total:,} open invitations", flush=True)
    ids = _setup(total)
    import redis

    from feedback.reporting.models import RollupMark

    broker = redis.Redis.from_url(BROKER)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for threads in args.threads:
            for rep in range(reps):
                order = WAYS[rep % 3 :] + WAYS[: rep % 3]
                for way in order:
                    batch, ids = ids[:n], ids[n:]
                    _way(way)
                    rate = _answer(batch, threads)
                    results.setdefault(f"{way}@{threads}", {}).setdefault("rates", []).append(rate)
                    print(
                        f"  {threads} thread(s), round {rep + 1}, {way}: {rate:,.0f}/s", flush=True
                    )
        marks = RollupMark.objects.count()
        broker.flushdb()
    finally:
        _way("marks")
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(DB)
    medians = {k: statistics.median(v["rates"]) for k, v in results.items()}
    by_threads = {
        t: {
            "ratio": round(medians[f"marks@{t}"] / medians[f"none@{t}"], 3),
            "in_txn_ratio": round(medians[f"in_txn@{t}"] / medians[f"none@{t}"], 3),
        }
        for t in args.threads
    }
    print()
    for t, r in by_threads.items():
        none, marks_rate, in_txn = (medians[f"{way}@{t}"] for way in WAYS)
        print(
            f"{t} thread(s): none {none:,.0f}/s, marks {marks_rate:,.0f}/s (ratio {r['ratio']}),"
            f" in_txn {in_txn:,.0f}/s ({r['in_txn_ratio']})"
        )
    print(f"marks written by the `marks` way: {marks:,}")
    worst = min(r["ratio"] for r in by_threads.values())
    one = args.threads[0]
    print(
        json.dumps(
            {
                "bench": "rollup_writes",
                "n": n,
                "ours_per_s": round(medians[f"marks@{one}"], 1),
                "baseline_per_s": round(medians[f"none@{one}"], 1),
                "ratio": worst,
                "target": TARGET,
                "ok": worst >= TARGET,
                "by_threads": by_threads,
                "medians_per_s": {k: round(v, 1) for k, v in medians.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
