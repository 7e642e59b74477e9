"""The event types integrators can subscribe to (the ``type`` of each webhook message)."""

RESPONSE_CREATED = "response.created"
RESPONSE_UPDATED = "response.updated"
TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_RESOLVED = "ticket.resolved"
CUSTOMER_UNSUBSCRIBED = "customer.unsubscribed"
INSIGHT_ALERT = "insight.alert"
EVENTS = (
    RESPONSE_CREATED,
    RESPONSE_UPDATED,
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_RESOLVED,
    CUSTOMER_UNSUBSCRIBED,
    INSIGHT_ALERT,
)
