"""The API documentation's prose: the schema's front page and a description per tag (group of
operations), shown by Swagger UI and ReDoc. Plain strings, read by settings (no Django here)."""

from __future__ import annotations

WEBHOOK_HEADERS = """\
- `webhook-id`: the message's id (`msg_…`), the same on every retry of a delivery, so a
  receiver can drop a duplicate.
- `webhook-timestamp`: seconds since the epoch when this attempt was sent; refuse old ones
  against replay (Standard Webhooks libraries allow 5 minutes).
- `webhook-signature`: `v1,<base64>`, an HMAC-SHA256 under the endpoint's secret of
  `{webhook-id}.{webhook-timestamp}.{body}`
  ([Standard Webhooks](https://www.standardwebhooks.com/)).
- `content-type`: `application/json`."""


def retry_schedule_text(seconds: list[int]) -> str:
    def one(s: int) -> str:
        if s % 3600 == 0:
            return f"{s // 3600} h"
        return f"{s // 60} min" if s % 60 == 0 else f"{s} s"

    total = sum(seconds) / 3600
    return f"{', '.join(one(s) for s in seconds)} (about {total:.0f} hours in all)"


def webhook_delivery_text(retry_schedule: list[int]) -> str:
    """How a delivery is made and retried: in the front page, the tag and every callback."""
    return f"""\
Every event is POSTed as JSON `{{"type", "timestamp", "data"}}` to each active endpoint
subscribed to its type, after the change it describes is committed, with these headers:

{WEBHOOK_HEADERS}

Verify the signature with any Standard Webhooks library before trusting the body, on the raw
bytes as received (Python: `standardwebhooks.Webhook(secret).verify(body, headers)`). The
secret (`whsec_…`) is shown once, in the answer to `POST /api/v1/webhooks/`.

**Answer with any 2xx** within the time-out (`CXCRM_WEBHOOK_TIMEOUT_SECONDS`, 15 s by
default): the delivery is done. Anything else, a redirect, a time-out or a refused connection
is a failed attempt, retried after {retry_schedule_text(retry_schedule)}
(`CXCRM_WEBHOOK_RETRY_SCHEDULE`). After the last attempt the delivery fails; an endpoint that
has not succeeded meanwhile is disabled and its owner emailed. Every attempt is in
`GET /api/v1/webhook-deliveries/`."""


def api_description(*, retry_schedule: list[int]) -> str:
    return f"""\
The REST API of cxcrm: push customers and their purchases in, read the surveys they are sent
and the answers they give, work the tickets unhappy answers open, and hear about all of it
through signed webhooks.

**New here? Read [Getting started](/api/getting-started/)**: an API key, a first purchase,
a first answer, a first webhook, step by step.

## Authentication
Send an API key as `Authorization: Bearer cx_<prefix>_<secret>`. An Admin makes keys in the
admin (System → API keys; the key is shown once) or with
`manage.py create_api_key --name NAME --scopes read,write`. A `read` key may use every GET;
a `write` key everything. In Swagger UI, press **Authorize** and paste the key (without
`Bearer`). Signed-in staff may also call the API from the browser, held to their role.

## Requests and answers
- JSON in (`Content-Type: application/json`, at most `CXCRM_API_MAX_BODY_BYTES`, 5 MB by
  default) and JSON out. Times are ISO 8601; a time without an offset is in the site's time
  zone, filters compare in UTC.
- Customers and touchpoints are named by your ids: a customer by `customer_external_id` (or
  our `customer` id), a touchpoint by its `slug`.
- Writes you may repeat are idempotent: customers by `external_id`, interactions by
  `(source, external_id)` (a repeat answers 200 with `"created": false`).
- Lists page: the big ones (interactions, invitations, responses, tickets, deliveries) with
  an opaque `cursor` (follow `next`), the others with `page`; `page_size` up to 500 (1000
  on the cursor lists). Every list takes `ordering` (`-field` for descending) and the
  filters shown on it.

## Errors
Every error is JSON: `{{"detail": "…"}}`, or for bad input the fields' messages
`{{"field": ["…"]}}` (for a list of interactions, one such object per item, `{{}}` for the good
ones). `400` bad input, `401` no or bad key, `403` the key's scope or the user's role does not
allow it, `404` no such object, `413` body too large, `415` not JSON, `429` too many requests
(wait `Retry-After` seconds), `503` the database cannot be reached for a moment (retry after
`Retry-After` seconds). The schema documents them on every operation (components
`Error` and `ValidationError`).

## Webhooks
Register an endpoint with `POST /api/v1/webhooks/` for the event types you want:
`response.created`, `response.updated`, `ticket.created`, `ticket.updated`,
`ticket.resolved`, `customer.unsubscribed`. The payload of each is documented as a
*callback* of that operation (ReDoc: "Callbacks" under it).

{webhook_delivery_text(retry_schedule)}
"""


API_TAGS = [
    {
        "name": "customers",
        "description": "The people you ask. Upsert by your `external_id`; the language "
        "(BCP 47) chooses the survey's language. Read who can be emailed (`reachable`), "
        "export a customer's data or erase it.",
    },
    {
        "name": "touchpoints",
        "description": "Where you meet customers along the journey (discovery, engagement, "
        "order, payment, usage, support). Interactions name a touchpoint by its `slug`; "
        "surveys are triggered per touchpoint or stage.",
    },
    {
        "name": "interactions",
        "description": "Something that happened between a customer and a touchpoint: a "
        "purchase, a delivery, a support call. Recording one schedules the surveys it "
        "triggers. Push one, or up to 1,000 in a list, idempotent by `(source, external_id)`.",
    },
    {
        "name": "surveys",
        "description": "The questions asked (NPS 0–10, CSAT 1–5, CES 1–7), what triggers "
        "them, their texts per language and the close-the-loop rule.",
    },
    {
        "name": "invitations",
        "description": "One survey emailed to one customer after one interaction: "
        "`scheduled → sending → sent → responded | expired | failed | suppressed`.",
    },
    {
        "name": "responses",
        "description": "Answers: score, category, comment, follow-up answers. Answers to "
        "emailed surveys arrive by themselves; post an answer captured elsewhere (a kiosk, a "
        "review site) and it is scored and may open a ticket the same way.",
    },
    {
        "name": "tickets",
        "description": "Unhappy answers become tickets with an SLA (`due_at`). Change their "
        "status, priority and assignee, reply to the customer (emailed) or add notes, resolve "
        "them with a root cause, reopen them.",
    },
    {
        "name": "root-causes",
        "description": "Why things went wrong: a resolved ticket names one.",
    },
    {
        "name": "metrics",
        "description": "The dashboard's figures: NPS, CSAT, CES, response rate and the "
        "close-the-loop KPIs, over a period, grouped by time or by touchpoint, stage, "
        "channel, segment or survey.",
    },
    {
        "name": "insights",
        "description": "Comment intelligence, computed on this server: the language, topics "
        "and sentiment of texts (`analyze`), the taxonomy of topics (`topics`; Managers and "
        "write keys change it, every comment's topics follow in the background), and what "
        "customers talk about in five languages: per-topic volume, share, scores and trend "
        "(`topics/metrics`), and the key drivers (`drivers`: which topics and touchpoints "
        "move the score, with 95% intervals).",
    },
    {
        "name": "webhooks",
        "description": "Endpoints that receive signed events. The events, their payloads, "
        "signature headers and retries are documented on `POST /api/v1/webhooks/` (its "
        "callbacks) and on the front page.",
    },
    {
        "name": "webhook-deliveries",
        "description": "The delivery log of your endpoints: each event, its status, attempts, "
        "the receiver's answer code and time.",
    },
]
