"""Survey dispatch scaled out: the same invitations sent by one worker, then by two, same run.

``python -m bench.dispatch_scale [--quick] [--n N] [--reps R]``

Built on bench.dispatch (its seed, SMTP sink, worker start-up and end-to-end timing):

1. Two counting aiosmtpd servers start, each in a process of its own, one per worker (see
   ``SinkGroup``: one aiosmtpd process would make the two workers' SMTP sessions take turns on
   one Python thread, which a real mail server does not); a private PostgreSQL database
   (default ``cxcrm_bench_scale_dispatch``, dropped and created afresh) is migrated and seeded
   with N due invitations (default 100,000; ``--quick``: 2,000) in five languages.
2. **Baseline**: one ``celery -A cxcrm worker --concurrency 1``. **Ours**: two such workers,
   separate processes with their own hostnames, consuming the same queue. That is what
   scaling out adds: a second worker (on this host or another) sharing only PostgreSQL and
   the broker with the first; the invitations are split between them by the dispatcher's
   ``SELECT … FOR UPDATE SKIP LOCKED`` claims. A single worker with ``--concurrency 2`` has
   the same two pool processes under one parent; scaling out is the case to prove.
3. Each run makes every invitation due again (``reset_invitations``: emails truncated, states
   reset, VACUUM ANALYZE), starts the workers, enqueues ``feedback.dispatch_due`` (again every
   ``--interval`` s, as beat would) and stops the clock at the SMTP servers' receipt of the N-th
   message (``bench.dispatch.run_ours``). The database is checked: N sent, N OutboundEmail rows,
   N distinct recipients across both servers.
4. A repetition measures both, back to back, in alternating order (1 then 2, 2 then 1...), so
   a drift in the machine's load favours neither; the repetition with the median ratio is
   reported (at least 5).

``ratio`` = emails/s with two workers ÷ emails/s with one: the speed-up. Each repetition also
prints when the first email arrived (the workers start before the clock) and ``other_cores``:
how many cores other jobs on the machine kept busy while it was timed (/proc/stat less the
workers, SMTP servers, PostgreSQL and this process). Two workers need both cores: with one
core taken by another job the speed-up falls to about 1 (measured), so a summary with more
than 0.25 there says it is not a quiet-machine figure. No run is dropped. Last line: one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import drop_database
from bench.dispatch import (
    ServerHandle,
    bench_environment,
    reset_invitations,
    run_ours,
    set_up,
    smtp_server,
    start_worker,
    stop,
)

# Two workers on a 2-core machine that also runs the SMTP server, PostgreSQL and this script:
# see bench/README.md ("dispatch_scale") for why 1.5 and not 2.
TARGET = 1.5
# Cores used by other jobs during a timed run above which the summary says so: one busy
# process (0.9–1.0) takes the core the second worker needs (measured: speed-up ≈ 1.0).
OTHER_LOAD_WARN = 0.25
SENT = re.compile(r"feedback\.send_due\[[^\]]+\] succeeded in [\d.]+s: \{[^}]*'sent': (\d+)")


@dataclass
class SinkGroup:
    """Several SMTP servers counted as one: worker k sends to server k.

    aiosmtpd serves every connection on one event loop in one thread, and parses each message
    line by line in Python (≈ 0.8 ms of CPU a message, as much as the worker spends on it):
    two workers' sessions on one such server take turns on it, which a real mail server
    (Postfix: a process per session; an ESP: a fleet) does not impose. One server per worker
    gives each session its own process, as a real MTA would; the CPU they spend is the same
    and still counted (``smtp_server``)."""

    servers: list[ServerHandle]

    @property
    def pids(self) -> list[int]:
        return [pid for server in self.servers for pid in server.pids]

    def query(self, command: str = "STATS") -> dict[str, Any]:
        replies = [server.query(command) for server in self.servers]
        if command != "STATS":
            return replies[0]
        first = [r["first_at"] for r in replies if r["first_at"] is not None]
        last = [r["last_at"] for r in replies if r["last_at"] is not None]
        return {
            "messages": sum(r["messages"] for r in replies),
            "bytes": sum(r["bytes"] for r in replies),
            # Distinct per server only; recipients() gives the distinct count across them.
            "recipients": sum(r["recipients"] for r in replies),
            "first_at": min(first) if first else None,
            "last_at": max(last) if last else None,
        }

    def recipients(self) -> int:
        return len({a for s in self.servers for a in s.query("RECIPIENTS")["recipients"]})


@dataclass
class Run:
    workers: int
    n: int
    seconds: float
    # Emails each worker sent (from its log), and CPU ms per email by party.
    sent_by_worker: list[int]
    cpu_ms: dict[str, float]
    # From enqueuing dispatch_due to the first email: the workers are started before the clock.
    first_s: float
    # Cores busy with other jobs during the timed window (OursResult.other_cores).
    other_cores: float

    @property
    def per_s(self) -> float:
        return self.n / self.seconds


def sent_in_log(log: Path) -> int:
    """Emails a worker sent, from its ``send_due`` results (Celery logs each task's return)."""
    return sum(int(m.group(1)) for m in SENT.finditer(log.read_text(errors="replace")))


def run_workers(
    sinks: list[ServerHandle],
    n: int,
    env: dict[str, str],
    workers: int,
    interval: float,
    logs: Path,
    timeout: float,
) -> Run:
    """Dispatch all N with ``workers`` separate ``--concurrency 1`` workers.

    The extra workers start first and wait on the empty queue. run_ours then empties the
    broker's database (they keep listening on the queue, which the next worker declares
    again), starts its own worker and measures; the extras' CPU counts as the worker's over
    the same timed window."""
    import redis
    from django.conf import settings

    extras = []
    # Emptied before the extra workers start, not only by run_ours after: a task left over from
    # the previous run (a dispatch_due tick) would reach an extra worker first, and the emails
    # it sent before run_ours reset the SMTP server's counter would be missing from the count
    # (seen: "1,999 of 2,000 messages after 300 s" with every invitation sent).
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    try:
        for k in range(2, workers + 1):
            own = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{sinks[k - 1].smtp_port}"}
            extras.append((start_worker(own, 1, logs / f"w{k}.log", hostname=f"bench{k}@%h"), k))
        server = SinkGroup(sinks[:workers])
        others = tuple(w.pid for w, _ in extras)
        ours = run_ours(server, n, env, 1, interval, logs / "w1.log", timeout, others)
        for worker, k in extras:
            if worker.poll() is not None:
                tail = (logs / f"w{k}.log").read_text(errors="replace")[-4000:]
                raise RuntimeError(f"worker {k} died:\n{tail}")
    finally:
        for worker, _ in extras:
            stop(worker, timeout=60)
    cpu_ms = dict(ours.cpu_ms)
    sent = [sent_in_log(logs / f"w{k}.log") for k in range(1, workers + 1)]
    return Run(
        workers=workers,
        n=n,
        seconds=ours.seconds,
        sent_by_worker=sent,
        cpu_ms=cpu_ms,
        first_s=ours.first_message_s,
        other_cores=ours.other_cores,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="emails per run (100,000)")
    parser.add_argument("--quick", action="store_true", help="n = 2,000")
    parser.add_argument("--reps", type=int, default=5, help="repetitions, at least 5")
    parser.add_argument("--db", default="cxcrm_bench_scale_dispatch", help="PostgreSQL database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="broker (flushed)")
    parser.add_argument("--interval", type=float, default=5.0, help="s between dispatch_due")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    args = parser.parse_args(argv)
    n = 2000 if args.quick else args.n
    reps = max(5, args.reps)
    if args.db in {"cxcrm", "test_cxcrm"} or args.redis.rstrip("/").endswith("/15"):
        parser.error("cxcrm, test_cxcrm and Redis db 15 belong to the test suite")
    # Generous: one worker at a few hundred emails a second, on a loaded machine.
    timeout = max(300.0, n / 50)

    began = time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix="cxcrm-bench-scale-"))
    runs: list[tuple[Run, Run]] = []
    finished = False
    try:
        with ExitStack() as stack:
            # One SMTP server per worker (SinkGroup); worker 1's is the environment's.
            sinks = [stack.enter_context(smtp_server()) for _ in range(2)]
            env = bench_environment(sinks[0], args.db, args.redis, var_dir, args.interval)
            setup_s = set_up(args.db, n)
            from django.conf import settings
            from django.db import connections

            for rep in range(reps):
                done: dict[int, Run] = {}
                for workers in (1, 2) if rep % 2 == 0 else (2, 1):
                    # Every run starts from the same table: all due, no dead rows.
                    reset_invitations()
                    logs = var_dir / f"rep{rep + 1}-x{workers}"
                    logs.mkdir()
                    done[workers] = run_workers(
                        sinks, n, env, workers, args.interval, logs, timeout
                    )
                    connections.close_all()
                one, two = done[1], done[2]
                runs.append((one, two))
                print(
                    f"  repetition {rep + 1}: 1 worker {one.per_s:.0f}/s ({one.seconds:.2f}s), "
                    f"2 workers {two.per_s:.0f}/s ({two.seconds:.2f}s, split "
                    f"{two.sent_by_worker}), speed-up {two.per_s / one.per_s:.2f}; first email "
                    f"after {one.first_s:.2f}s and {two.first_s:.2f}s; other jobs "
                    f"{one.other_cores:.2f} and {two.other_cores:.2f} cores",
                    flush=True,
                )
            finished = True
    finally:
        if not finished:
            print(f"  (workers' logs kept in {var_dir})", file=sys.stderr, flush=True)
            for log in sorted(var_dir.glob("*/w*.log")):
                failures = [
                    line
                    for line in log.read_text(errors="replace").splitlines()
                    if "ERROR" in line
                    or "WARNING" in line
                    or ("'deferred': 0" not in line and "'deferred'" in line)
                ]
                for line in failures[-5:]:
                    print(f"  {log.parent.name}/{log.name}: {line[:300]}", file=sys.stderr)
        if not args.keep_db:
            drop_database(args.db)
        if finished:
            shutil.rmtree(var_dir, ignore_errors=True)

    ratios = sorted(two.per_s / one.per_s for one, two in runs)
    one, two = sorted(runs, key=lambda pair: pair[1].per_s / pair[0].per_s)[len(runs) // 2]
    ratio = two.per_s / one.per_s
    elapsed = time.monotonic() - began

    def cpu_line(run: Run) -> str:
        parts = ", ".join(f"{name} {ms:.2f}" for name, ms in run.cpu_ms.items())
        cores = sum(run.cpu_ms.values()) / 1000 * run.per_s
        return f"{parts} (≈ {cores:.1f} of {os.cpu_count()} cores busy)"

    print(f"dispatch_scale: {n} survey emails per run, {reps} repetitions, {os.cpu_count()} CPUs")
    print(f"  setup (migrate + seed): {setup_s:.1f}s; whole bench {elapsed:.0f}s")
    print(
        f"  baseline, 1 worker (--concurrency 1): {one.seconds:.2f}s = {one.per_s:.0f}/s; "
        f"batch {settings.CXCRM_DISPATCH_BATCH_SIZE}"
    )
    print(
        f"  ours, 2 workers (--concurrency 1 each): {two.seconds:.2f}s = {two.per_s:.0f}/s; "
        f"emails sent by each: {two.sent_by_worker}"
    )
    print(f"  CPU ms per email, 1 worker: {cpu_line(one)}")
    print(f"  CPU ms per email, 2 workers: {cpu_line(two)}")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(
        f"  speed-up {ratio:.2f} (all: {', '.join(f'{r:.2f}' for r in ratios)}) {verdict} "
        f"the target {TARGET}"
    )
    busiest = max(max(one.other_cores, two.other_cores) for one, two in runs)
    if busiest > OTHER_LOAD_WARN:
        # Not dropped (no run is): said, so that the figure is read for what it is.
        print(
            f"  warning: other jobs kept up to {busiest:.2f} cores busy during a timed run; "
            "two workers need both cores, so this is not a quiet-machine figure"
        )
    result = {
        "bench": "dispatch_scale",
        "n": n,
        "ours": round(two.per_s, 1),
        "baseline": round(one.per_s, 1),
        "ratio": round(ratio, 3),
        "target": TARGET,
        "ok": ratio >= TARGET,
        "unit": "emails/s (ours: 2 workers, baseline: 1 worker; --concurrency 1 each)",
        "ratios": [round(r, 3) for r in ratios],
        "reps": reps,
        "ours_s": round(two.seconds, 3),
        "baseline_s": round(one.seconds, 3),
        "split": two.sent_by_worker,
        "cpu_ms_per_email": {
            "baseline": {k: round(v, 3) for k, v in one.cpu_ms.items()},
            "ours": {k: round(v, 3) for k, v in two.cpu_ms.items()},
        },
        # Per repetition, [1 worker, 2 workers]: cores other jobs used while it was timed.
        "other_cores": [
            [round(one.other_cores, 2), round(two.other_cores, 2)] for one, two in runs
        ],
        "elapsed_s": round(elapsed),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
