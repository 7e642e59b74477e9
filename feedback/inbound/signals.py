"""Signals the inbound part sends; the parts above it (insights) receive them."""

from __future__ import annotations

from django.dispatch import Signal

# A stored email was read and matched (or matched nothing), or staff put it on a ticket, in
# the transaction that records its new status: kwarg ``inbound_email``. Its text, when it went
# to no answer and no ticket, is still the customer's words (comment insights enrich it).
inbound_email_read = Signal()
