"""Run the available benchmarks with --quick and print each one's JSON line(s).

``python -m bench.all [--only NAME ...]``

Each bench runs in its own process (its own database, dropped at its end); its output is
passed through, and the JSON lines it ends with are repeated at the end, one per line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["admin", "cursor", "api", "dispatch"]


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=BENCHES, default=BENCHES)
    args = parser.parse_args()
    results: list[dict[str, object]] = []
    failed = []
    for name in args.only:
        print(f"== bench.{name} --quick", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", "--quick"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        sys.stdout.write(done.stdout)
        if done.returncode != 0:
            failed.append(name)
            sys.stdout.write(done.stderr[-3000:])
            results.append({"bench": name, "error": f"exit status {done.returncode}"})
            continue
        results.extend(json_lines(done.stdout) or [{"bench": name, "error": "no JSON line"}])
    print("== results")
    for result in results:
        print(json.dumps(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
