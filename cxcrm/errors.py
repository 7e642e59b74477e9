"""The one exception type services raise for input they refuse.

Each app subclasses it (``CustomerError``, ``TicketError``…); the API's exception handler
answers any of them with 400 and the message, without the platform knowing the apps.
"""


class ServiceError(Exception):
    """The input cannot be done as given; the message says why, in words for the caller."""


class InUseError(ServiceError):
    """The row is still referred to (answers, tickets, interactions): it cannot be deleted.
    The API answers 409; deactivating it is the way out."""
