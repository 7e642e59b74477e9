"""Take in one email from an MTA pipe: ``manage.py receive_email < message.eml``.

Postfix, for example (master.cf), delivering reply+*@ and unsubscribe+*@ addresses here:

    cxcrm unix - n n - - pipe
      flags=FR user=cxcrm argv=/srv/cxcrm/.venv/bin/python /srv/cxcrm/manage.py receive_email
      --recipient ${original_recipient}

The message is stored, then read in-line (the MTA's pipe waits for the outcome; reading is
capped like the webhook's task, and a message over a cap is kept as "over_limit"). A worker
killed mid-way leaves the row "received" for the beat sweep.

Exit status (sysexits, which MTAs understand): 0 once the message is stored, whatever became of
it (an unmatched or over-limit message is kept for staff, not refused); 65 (EX_DATAERR) for empty or
oversized input, with the reason on stderr so the MTA's bounce tells the sender; 75
(EX_TEMPFAIL) when it could not be stored, so the MTA keeps the message and tries again.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.inbound.models import InboundSource, InboundStatus
from feedback.inbound.services import EmptyMessage, inbound_email_receive, max_bytes

EX_DATAERR = 65
EX_TEMPFAIL = 75
CHUNK = 1024 * 1024


def read_bounded(stream: IO[bytes], limit: int) -> tuple[bytes, int]:
    """The first limit + 1 bytes and the total size. The rest is read and dropped rather than
    left unread, so the MTA does not see a broken pipe instead of our answer."""
    head = stream.read(limit + 1) or b""
    size = len(head)
    if size > limit:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
    return head, size


class Command(BaseCommand):
    help = "Store and process one RFC 822 email read from stdin (or a file)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default="-", help="An .eml file to read instead of stdin."
        )
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="The envelope recipient (e.g. Postfix's ${original_recipient}); repeatable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = max_bytes()
        if options["path"] != "-":
            with open(options["path"], "rb") as stream:
                raw, size = read_bounded(stream, limit)
        else:
            stream = options.get("stdin") or sys.stdin.buffer
            raw, size = read_bounded(stream, limit)
        try:
            row = inbound_email_receive(
                raw=raw,
                source=InboundSource.COMMAND,
                envelope_recipients=options["recipient"],
                size=size,
            )
        except EmptyMessage as exc:
            raise CommandError(
                f"Refused: {exc} Nothing was stored.", returncode=EX_DATAERR
            ) from None
        except Exception as exc:
            # Not stored (database down...): a temporary failure makes the MTA retry later.
            raise CommandError(
                f"Could not store the message ({type(exc).__name__}: {exc}); try again later.",
                returncode=EX_TEMPFAIL,
            ) from exc
        if row.status == InboundStatus.TOO_LARGE:
            raise CommandError(
                f"Refused: the message is {size} bytes, over the {limit}-byte limit. "
                f"Its beginning is kept as inbound email #{row.pk}.",
                returncode=EX_DATAERR,
            )
        self.stdout.write(f"Inbound email #{row.pk}: {row.status}. {row.note}")
