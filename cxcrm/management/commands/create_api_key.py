"""``manage.py create_api_key --name NAME --scopes read,write``: the key alone on the last line,
so a script can take it with ``| tail -n 1``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxcrm.api.keys import ApiKeyError, api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it (shown this once; only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", default="read", help="read, or read,write")
        parser.add_argument(
            "--user", default="", help="Staff username the key acts for (signs ticket replies)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"], is_staff=True).first()
            if user is None:
                raise CommandError(f"No staff user {options['user']!r}.")
        try:
            made = api_key_create(name=options["name"], scopes=options["scopes"], created_by=user)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"API key {made.api_key.name!r} (prefix {made.api_key.prefix}, "
            f"scopes {','.join(made.api_key.scopes)}). It is shown this once:"
        )
        self.stdout.write(made.key)
