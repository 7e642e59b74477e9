"""Create the first staff superuser for a fresh installation (used by ``make run``).

Credentials come from CXCRM_ADMIN_USERNAME / CXCRM_ADMIN_EMAIL / CXCRM_ADMIN_PASSWORD; without a
password a random one is generated once and kept in var/admin-credentials.txt (mode 0600), so
every ``make run`` can print the same login.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction


class Command(BaseCommand):
    help = "Create the staff superuser if it does not exist, and print how to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("CXCRM_ADMIN_USERNAME", "admin").strip()
        email = os.environ.get("CXCRM_ADMIN_EMAIL", "admin@localhost").strip()
        password = os.environ.get("CXCRM_ADMIN_PASSWORD", "")
        if not username or len(username) > 150:
            raise CommandError("CXCRM_ADMIN_USERNAME must be 1 to 150 characters.")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"CXCRM_ADMIN_EMAIL={email!r} is not an email address.") from None
        stored = Path(settings.VAR_DIR) / "admin-credentials.txt"
        user_model = get_user_model()
        with transaction.atomic():
            user = user_model.objects.filter(username=username).first()
            if user is None:
                if not password:
                    password = secrets.token_urlsafe(12)
                    stored.write_text(f"{username}\n{password}\n", encoding="utf-8")
                    stored.chmod(0o600)
                user_model.objects.create_superuser(
                    username=username, email=email, password=password
                )
                self.stdout.write(f"Created the superuser {username!r}.")
            elif password:
                user.set_password(password)
                user.is_staff = user.is_superuser = user.is_active = True
                user.save(update_fields=["password", "is_staff", "is_superuser", "is_active"])
                self.stdout.write(f"Set the password of {username!r} from CXCRM_ADMIN_PASSWORD.")
        if not password and stored.exists():
            lines = stored.read_text(encoding="utf-8").split()
            if len(lines) == 2 and lines[0] == username:
                password = lines[1]
        shown = password or "(unchanged; set CXCRM_ADMIN_PASSWORD to reset it)"
        self.stdout.write(f"Log in as: {username} / {shown}")
