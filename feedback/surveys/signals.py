"""What the parts above surveys hook into when an answer changes."""

from django.dispatch import Signal

# An answer was recorded or changed, in the caller's transaction: kwarg ``response``. The
# ticket loop's receiver opens or updates the ticket it calls for, after commit.
response_changed = Signal()
