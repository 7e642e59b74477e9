"""cxcrm.rows.NewRows: the values of new rows, as Model.save() would write them, without a model
instance per row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from cxcrm.rows import NewRows, copy_in, insert_fields, insert_values
from feedback.models import Invitation, InvitationState
from tests.factories import InteractionFactory, SurveyFactory

pytestmark = pytest.mark.django_db
GIVEN = ["survey_id", "interaction_id", "customer_id", "scheduled_for", "expires_at"]
AT = datetime(2025, 3, 1, 9, tzinfo=UTC)


def test_values_are_those_of_an_instance_with_the_same_fields() -> None:
    template = NewRows(Invitation, GIVEN)
    given = (3, 5, 7, AT, AT + timedelta(days=5))
    names = [f.attname for f in insert_fields(Invitation)]
    ours = dict(zip(names, template.values(*given), strict=True))
    instance = Invitation(**dict(zip(GIVEN, given, strict=True)))
    theirs = dict(zip(names, insert_values(instance), strict=True))

    # Drawn per row (a token, a timestamp) or stamped per batch (auto_now): not equal, but set.
    for name in ("token", "created_at", "updated_at"):
        assert ours.pop(name) and theirs.pop(name)
    assert ours == theirs
    assert (ours["survey_id"], ours["state"], ours["attempts"]) == (3, InvitationState.SCHEDULED, 0)


def test_callable_defaults_are_drawn_for_every_row() -> None:
    template = NewRows(Invitation, GIVEN)
    position = [f.attname for f in insert_fields(Invitation)].index("token")
    tokens = {template.values(1, n, 1, AT, AT)[position] for n in range(50)}
    assert len(tokens) == 50


def test_the_number_of_given_values_is_checked() -> None:
    with pytest.raises(ValueError):
        NewRows(Invitation, GIVEN).values(1, 2, 3)


@pytest.mark.postgres
def test_copied_rows_read_back_as_model_rows() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    survey = SurveyFactory()
    interactions = [InteractionFactory() for _ in range(3)]
    template = NewRows(Invitation, GIVEN)
    copy_in(
        Invitation,
        [
            template.values(survey.pk, i.pk, i.customer_id, AT, AT + timedelta(days=5))
            for i in interactions
        ],
    )

    stored = list(Invitation.objects.order_by("interaction_id"))
    assert [i.interaction_id for i in stored] == sorted(i.pk for i in interactions)
    for invitation in stored:
        assert invitation.state == InvitationState.SCHEDULED
        assert invitation.scheduled_for == AT and invitation.expires_at == AT + timedelta(days=5)
        assert len(invitation.token) >= 40 and invitation.last_error == ""
        assert invitation.created_at is not None and invitation.updated_at is not None
    assert len({i.token for i in stored}) == 3
