"""manage.py rollups_rebuild [--since DATE]: recompute the dashboard's rollups from the raw
rows (after a bulk import, a restore, or to check them), a month per transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from feedback.reporting.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's rollups from the answers and invitations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", type=date.fromisoformat, help="First day (YYYY-MM-DD); default: all."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(first: date, last: date, written: int) -> None:
            self.stdout.write(f"{first} … {last}: {written} rows so far")

        written = rollups_rebuild(since=options.get("since"), progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt: {written} rows."))
