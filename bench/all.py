"""Run every benchmark, each in its own process, and print each one's JSON line(s).

``python -m bench.all [--quick] [--only NAME ...] [--markdown FILE]``

Each bench measures ours beside its baseline in the same run and ends with one JSON line per
figure (``bench``, ``ours``, ``baseline``, ``ratio``, ``target``, ``ok``). Their output is
passed through; the JSON lines are repeated at the end, one per line, followed by one summary
line ``{"bench": "all", "ok": ..., "seconds": ...}``. The exit status is 1 if a bench failed or
a figure missed its target.

The million-row benches (admin, cursor, metrics, peer) share one database seeded by
``bench.seed`` (``cxcrm_scale``, with --quick ``cxcrm_scale_quick``): the first one seeds it,
the others reuse it (each checks the row counts), and it is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import drop_database

ROOT = Path(__file__).resolve().parents[1]
# The ones on the shared million-row database first, so that it is seeded once.
SCALE = ["admin", "cursor", "metrics", "peer"]
BENCHES = [
    *SCALE,
    "staff_pages",
    "rollup_writes",
    "api",
    "dispatch",
    "dispatch_scale",
    "survey_page",
    "insights",
]


def json_lines(output: str) -> list[dict[str, object]]:
    found = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def markdown(results: list[dict[str, object]], quick: bool) -> str:
    """The README's table: one row per figure."""
    lines = [
        "| bench | ours | baseline | ratio | target | ok | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        name = str(r.get("bench"))
        module = name if name not in ("ingest", "ticket_list") else "api"
        command = f"`python -m bench.{module}{' --quick' if quick else ''}`"
        lines.append(
            f"| {name} | {r.get('ours', '')} | {r.get('baseline', '')} | {r.get('ratio', '')} "
            f"| {r.get('target', '')} | {r.get('ok', r.get('error', ''))} | {command} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="each bench's --quick size")
    parser.add_argument("--only", nargs="*", choices=BENCHES, default=BENCHES)
    parser.add_argument("--markdown", type=Path, help="also write the table of figures here")
    args = parser.parse_args()
    started = time.monotonic()
    results: list[dict[str, object]] = []
    failed = []
    scale_db = "cxcrm_scale_quick" if args.quick else "cxcrm_scale"
    try:
        for name in [b for b in BENCHES if b in args.only]:
            command = [sys.executable, "-m", f"bench.{name}"]
            command += ["--quick"] if args.quick else []
            command += ["--keep"] if name in SCALE else []
            print(f"== {' '.join(command[1:])}", flush=True)
            t = time.monotonic()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            sys.stdout.write(done.stdout)
            print(f"== bench.{name}: {time.monotonic() - t:.0f} s", flush=True)
            found = json_lines(done.stdout)
            if done.returncode != 0 or not found:
                failed.append(name)
                sys.stdout.write(done.stderr[-3000:])
                results.append({"bench": name, "error": f"exit status {done.returncode}"})
                continue
            results.extend(found)
    finally:
        if any(b in SCALE for b in args.only):
            drop_database(scale_db)
        if "admin" in args.only:
            from bench.admin import QUICK_DB, SMALL_DB

            drop_database(SMALL_DB)
            if args.quick:
                drop_database(QUICK_DB)
        if "peer" in args.only:
            from bench.peer import PEER_DB

            drop_database(PEER_DB)
    ok = not failed and all(r.get("ok") is True for r in results)
    print("== results")
    for result in results:
        print(json.dumps(result))
    if args.markdown:
        args.markdown.write_text(markdown(results, args.quick), encoding="utf-8")
    summary = {"bench": "all", "quick": args.quick, "ok": ok, "failed": failed}
    summary["seconds"] = round(time.monotonic() - started)
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
