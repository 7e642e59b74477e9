"""Enrich every customer text written so far (comment insights); the logic is in
feedback.insights.backfill."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from feedback.insights.backfill import insights_backfill
from feedback.management.commands.seed_demo import _ProgressStream


def _day(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(f"--since {value!r}: expected a date, YYYY-MM-DD.") from None
    return timezone.make_aware(datetime.combine(day, time.min))


class Command(BaseCommand):
    help = (
        "File every answer comment, follow-up and external answer, customer ticket message and "
        "unrecorded inbound email as a comment insight, then enrich the pending ones (language, "
        "topics, sentiment). Resumable: rows already current are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=64, help="Texts per embedding call (default 64)."
        )
        parser.add_argument(
            "--since", type=_day, default=None, help="Only texts written since this day."
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Enrich at most this many rows this run."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar on stderr."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch, limit = options["batch"], options["limit"]
        if not 1 <= batch <= 1000:
            raise CommandError("--batch: between 1 and 1000.")
        if limit is not None and limit < 0:
            raise CommandError("--limit: 0 or more.")
        result = insights_backfill(
            batch=batch,
            since=options["since"],
            limit=limit,
            progress=not options["no_progress"],
            stream=_ProgressStream(self.stderr),  # type: ignore[arg-type]
        )
        self.stdout.write(
            f"Filed {result.filed} texts; enriched {result.enriched} rows in "
            f"{result.seconds:.1f} s ({result.rows_per_second:.1f} rows/s); "
            f"peak RSS {result.peak_rss_mb:.0f} MB."
        )
