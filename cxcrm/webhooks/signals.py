"""Signals of the webhook platform, for the product to act on without the platform knowing it."""

from django.dispatch import Signal

# An endpoint was turned off after failing for too long: kwargs endpoint, owner (an email
# address to tell), reason.
endpoint_disabled = Signal()
