"""What the other apps hook into when interactions are recorded.

Touchpoints sit below the surveys that interactions trigger, so recording an interaction
asks the survey rules through this signal instead of importing them.
"""

from django.dispatch import Signal

# New interactions were stored, in the caller's transaction: kwargs ``interactions``, a list
# of ``NewInteraction``. Each receiver returns {interaction id: invitations scheduled}.
interactions_recorded = Signal()
