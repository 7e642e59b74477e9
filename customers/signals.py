"""What the other apps hook into when something happens to a customer as a whole.

Customers sit below the apps that hold their interactions, answers and tickets, so the
privacy services ask those apps through these signals instead of importing them. Every
receiver runs inside the caller's transaction.
"""

from django.dispatch import Signal

# Right of access: each receiver returns {section name: JSON-ready list} for ``customer``.
customer_exporting = Signal()
# Right to erasure: each receiver removes the personal data it holds about ``customer``
# (still intact when sent) and keeps what the metrics need.
customer_erasing = Signal()
# Retention: each receiver returns a list of ``Exists`` expressions, true for a customer
# (``OuterRef("pk")``) with activity of its kind since ``cutoff``.
customer_activity = Signal()
# The customer may no longer be contacted (unsubscribed, suppressed): receivers cancel what
# has not been sent; kwargs ``customer``, ``reason``.
customer_contact_stopped = Signal()
# A customer's segment changed (figures are grouped by segment), in the caller's transaction;
# kwarg ``customer_id``.
customer_segment_changed = Signal()
