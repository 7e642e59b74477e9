"""cxcrm.rows.insert_values: the values Model.save() would write for a new row (used by the
dispatcher's sent-email write until it goes back to the ORM)."""

from __future__ import annotations

import pytest

from cxcrm.rows import insert_fields, insert_values
from feedback.models import OutboundEmail

pytestmark = pytest.mark.django_db


def test_values_are_what_save_writes() -> None:
    email = OutboundEmail(to_email="a@example.com", subject="Hello")
    values = dict(
        zip([f.attname for f in insert_fields(OutboundEmail)], insert_values(email), strict=True)
    )

    email.save(force_insert=True)
    stored = OutboundEmail.objects.values(*values).get(pk=email.pk)

    assert "id" not in values
    for name in ("to_email", "subject", "kind", "status"):
        assert values[name] == stored[name]
