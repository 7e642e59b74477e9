"""Bring the translation catalogues (locale/<language>/LC_MESSAGES/django.po) up to date with
the code: Django's makemessages over our sources only, for every language of settings.LANGUAGES
but English (the language the code is written in). `make messages` runs it; a unit test runs it
in a copy of the sources and fails when it would change a catalogue's messages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import BaseCommand, call_command

# Not ours, or not shipped: tests, benchmarks, the virtualenv, runtime data, docs.
IGNORED = [".venv", "venv", "tests", "bench", "var", "docs", "node_modules", "build"]


def locale_dir_names() -> list[str]:
    """Django's locale directory names (zh-hans -> zh_Hans) of the translated languages."""
    from django.utils.translation import to_locale

    return [to_locale(code) for code, _name in settings.LANGUAGES if code != "en"]


class Command(BaseCommand):
    help = "Update locale/*/LC_MESSAGES/django.po from the code (makemessages, our sources only)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "makemessages",
            locale=locale_dir_names(),
            domain="django",
            ignore_patterns=IGNORED,
            # File names without line numbers: a catalogue changes when messages change, not
            # when code moves a line down.
            add_location="file",
            verbosity=options["verbosity"],
        )
