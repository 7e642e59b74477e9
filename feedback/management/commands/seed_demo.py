"""Fill the database with demo data (used by ``make run``); the logic is in feedback.demo."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser, OutputWrapper

from feedback.demo import demo_seed
from feedback.demo.seed import SIZES


class _ProgressStream:
    """The command's stderr as a plain stream for tqdm: OutputWrapper.write appends a newline
    and colours the text, which would break the bar's carriage-return redraws."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> int:
        self._wrapper.write(text, style_func=lambda s: s, ending="")
        return len(text)

    def flush(self) -> None:
        self._wrapper.flush()

    def isatty(self) -> bool:
        return self._wrapper.isatty()


class Command(BaseCommand):
    help = (
        "Create deterministic demo data: touchpoints, customers, a year of interactions (90 "
        "days with --size small), surveys, invitations, answers and tickets. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--size",
            choices=sorted(SIZES),
            default="full",
            help="full: a year, ~10,000 interactions (default); small: 90 days, for tests.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar on stderr."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = demo_seed(
            seed=options["seed"],
            size=options["size"],
            progress=not options["no_progress"],
            stream=_ProgressStream(self.stderr),  # type: ignore[arg-type]
        )
        elapsed = time.monotonic() - started
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data created (seed {result.seed}) in {elapsed:.1f}s.")
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    "Demo data is already present: reference data refreshed, no new activity "
                    "created."
                )
            )
        width = max(len(name) for name in result.counts)
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<{width}}  {count:>6}")
