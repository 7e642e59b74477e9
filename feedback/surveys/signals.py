"""What the parts above surveys hook into: an answer changed, an invitation was sent, an email
was accepted."""

from django.dispatch import Signal

# An answer was recorded or changed, in the caller's transaction: kwarg ``response``. The
# ticket loop's receiver opens or updates the ticket it calls for, after commit.
response_changed = Signal()

# A queued email (OutboundEmail) was accepted by the mail server or the ESP, in the transaction
# that marks it sent: kwargs ``email`` and ``accepted_at``. A ticket reply counts as contact
# only from here (feedback.tickets.receivers).
outbound_email_accepted = Signal()

# An invitation was sent (its email accepted for delivery), in the transaction that records
# it: kwargs ``invitation_id`` and ``sent_at``. The reporting rollups mark its day.
invitation_sent = Signal()

# Rows the figures count (answers, invitations) were changed or deleted outside the services (the
# admin's own forms and delete): kwarg ``moments``, the datetimes whose days' figures moved,
# sent in the transaction of the change. The reporting rollups mark those days.
figures_changed = Signal()
