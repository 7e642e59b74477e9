"""The survey rules' receivers: translate other apps' signals into survey service calls."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from feedback.services.invitations import invitations_schedule_for_many
from touchpoints.models import Interaction
from touchpoints.services import NewInteraction
from touchpoints.signals import interactions_recorded


@receiver(interactions_recorded, sender=Interaction, dispatch_uid="surveys-schedule")
def schedule_invitations(
    sender: Any, interactions: list[NewInteraction], **kwargs: Any
) -> dict[int, int]:
    return invitations_schedule_for_many(interactions=interactions)
