"""Telling people about an alert (feedback.insights.alerts): an email to the touchpoint's owner
and the Managers, our signed webhook ``insight.alert``, and a message to the Slack and
Microsoft Teams channels whose incoming-webhook URLs are configured.

Emails and webhook deliveries are rows written in the alert's transaction (the outbox and the
delivery log are their queues of record). The chat messages are plain HTTPS POSTs made by a
task after commit, under the same URL rules as our webhooks (cxcrm.webhooks.safety: resolved
once, no private addresses in production, no redirects, bounded time and reply size); the
alert's ``notified_at`` is set once every configured channel has taken it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext, pgettext
from rest_framework import serializers

from cxcrm.staff_prefs import recipients_by_locale, staff_locale
from cxcrm.tasking import enqueue_on_commit
from cxcrm.webhooks.docs import webhook_event_documented
from cxcrm.webhooks.event_types import INSIGHT_ALERT
from cxcrm.webhooks.events import event_publish
from cxcrm.webhooks.safety import WebhookUrlError, target_resolve
from cxcrm.webhooks.sending import SendError, target_post
from feedback.insights.models import AlertKind, InsightAlert
from feedback.surveys.emails import public_url
from feedback.surveys.models import EmailKind
from feedback.surveys.services.outbox import outbound_email_queue
from feedback.tickets.services import MANAGER_GROUP, staff_users

log = logging.getLogger(__name__)

DASHBOARD_PATH = "/admin/dashboard/"


def alert_data(alert: InsightAlert) -> dict[str, Any]:
    """The alert as integrators get it (``insight.alert``); no customer's data in it."""
    details = alert.details if isinstance(alert.details, dict) else {}
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "episode": alert.episode,
        "touchpoint": alert.touchpoint_id,
        "topic": alert.topic_id,
        "summary": alert.summary,
        "figures": details.get("figures", {}),
        "grown_topics": details.get("grown_topics", []),
        "grown_touchpoints": details.get("grown_touchpoints", []),
        "raised_at": alert.raised_at,
    }


def alert_recipients(alert: InsightAlert) -> list[str]:
    """The touchpoint's owner (active staff) and every Manager and superuser with an email."""
    who = Q(groups__name=MANAGER_GROUP) | Q(is_superuser=True)
    if alert.touchpoint is not None and alert.touchpoint.owner_id:
        who |= Q(pk=alert.touchpoint.owner_id)
    emails = staff_users().filter(who).exclude(email="").values_list("email", flat=True)
    return sorted(set(emails))


def chat_channels() -> dict[str, str]:
    """The configured chat webhooks by name (empty settings are off)."""
    channels = {
        "slack": settings.CXCRM_ALERT_SLACK_URL,
        "teams": settings.CXCRM_ALERT_TEAMS_URL,
    }
    return {name: url for name, url in channels.items() if url}


def _percent(share: Any) -> str:
    value = number_format(round(float(share) * 100), 0)
    # Translators: a percentage; move the sign or add a space as your language writes it.
    return pgettext("percentage", "%(value)s%%") % {"value": value}


def alert_summary(alert: InsightAlert) -> str:
    """The alert's finding in the active language, written from its figures; the stored
    summary (English, what integrators get) when the figures are missing."""
    details = alert.details if isinstance(alert.details, dict) else {}
    figures = details.get("figures") or {}
    recent, base = figures.get("recent"), figures.get("baseline")
    if not (isinstance(recent, dict) and isinstance(base, dict)):
        return alert.summary
    try:
        values = {
            "name": _subject_name(alert),
            "before": _percent(base["share"]),
            "after": _percent(recent["share"]),
            "recent_k": number_format(recent["k"]),
            "recent_n": number_format(recent["n"]),
            "base_k": number_format(base["k"]),
            "base_n": number_format(base["n"]),
            # A p-value is read as a number in scientific notation: left as computed.
            "p": f"{float(figures.get('p_value', 0)):.1g}",
        }
    except (KeyError, TypeError, ValueError):
        return alert.summary
    if alert.kind == AlertKind.SCORE_DROP:
        text = gettext(
            "Score drop at %(name)s: bad answers %(before)s → %(after)s (last 7 days: "
            "%(recent_k)s of %(recent_n)s; 28 days before: %(base_k)s of %(base_n)s; p=%(p)s)."
        )
    else:
        text = gettext(
            "Surge of %(name)s: share of comments %(before)s → %(after)s (last 7 days: "
            "%(recent_k)s of %(recent_n)s; 28 days before: %(base_k)s of %(base_n)s; p=%(p)s)."
        )
    text %= values
    grown = grown_rows(alert) if alert.kind == AlertKind.SCORE_DROP else []
    if grown:
        listed = ", ".join(
            # Translators: one grown topic in an alert: "Delivery (31% → 78%)".
            gettext("%(name)s (%(before)s → %(after)s)") % g
            for g in grown
        )
        text += " " + gettext("Topics that grew: %(topics)s.") % {"topics": listed}
    where = grown_rows(alert, key="grown_touchpoints") if alert.kind != AlertKind.SCORE_DROP else []
    if where:
        listed = ", ".join(gettext("%(name)s (%(before)s → %(after)s)") % g for g in where)
        text += " " + gettext("Touchpoints where it grew most: %(touchpoints)s.") % {
            "touchpoints": listed
        }
    return text


def grown_rows(alert: InsightAlert, *, key: str = "grown_topics") -> list[dict[str, str]]:
    """The topics that grew (or, with key="grown_touchpoints", the touchpoints where a topic
    grew most), their shares formatted for the active language."""
    details = alert.details if isinstance(alert.details, dict) else {}
    rows = []
    for g in details.get(key) or []:
        try:
            rows.append(
                {
                    "name": str(g["name"]),
                    "before": _percent(g["baseline_share"]),
                    "after": _percent(g["recent_share"]),
                    "mentions": int(g.get("mentions", 0)),
                }
            )
        except (KeyError, TypeError, ValueError):
            continue
    return rows


def alert_notify_queue(alert: InsightAlert, *, now: datetime | None = None) -> None:
    """Queue every notification of a new alert, in the caller's transaction."""
    now = now or timezone.now()
    url = public_url(DASHBOARD_PATH)
    # Each recipient reads it in their own language: rendered once per language group.
    for locale, addresses in recipients_by_locale(alert_recipients(alert)):
        with staff_locale(locale):
            language = translation.get_language()
            context = {
                "alert": alert,
                "summary": alert_summary(alert),
                "grown": grown_rows(alert),
                "url": url,
                "brand": settings.CXCRM_BRAND_NAME,
                "language": language,
                "direction": "rtl" if translation.get_language_bidi() else "ltr",
            }
            text = render_to_string("emails/insight_alert.txt", context)
            html = render_to_string("emails/insight_alert.html", context)
            subject = f"[{settings.CXCRM_BRAND_NAME}] {_title(alert)}"
        for address in addresses:
            outbound_email_queue(
                to=address, subject=subject, text=text, html=html, kind=EmailKind.ALERT, now=now
            )
    event_publish(INSIGHT_ALERT, alert_data(alert), subject="")
    if chat_channels():
        enqueue_on_commit(alert_chat_send, alert.pk)
    else:
        InsightAlert.objects.filter(pk=alert.pk).update(notified_at=now)


def _subject_name(alert: InsightAlert) -> str:
    if alert.kind == AlertKind.SCORE_DROP and alert.touchpoint is not None:
        return alert.touchpoint.name
    return alert.topic.name if alert.topic is not None else gettext("a topic")


def _title(alert: InsightAlert) -> str:
    # Translators: an alert's title: its kind, then the touchpoint or topic ("Score drop: Home").
    return gettext("%(kind)s: %(name)s") % {
        "kind": alert.get_kind_display(),
        "name": _subject_name(alert),
    }


# --- Slack and Microsoft Teams ---------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's escaping of message text: a touchpoint or topic named "<!channel>" must not
    ping a whole channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: InsightAlert) -> dict[str, Any]:
    """Slack's incoming-webhook message: ``text`` (notifications and fallbacks) and blocks, in
    the site's language (a channel has no one reader's)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _slack_payload(alert)


def _slack_payload(alert: InsightAlert) -> dict[str, Any]:
    title = _title(alert)
    summary = slack_escape(alert_summary(alert))
    return {
        "text": f"{slack_escape(title)}. {summary}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": summary[:3000]}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"<{public_url(DASHBOARD_PATH)}|"
                        f"{slack_escape(gettext('Open the dashboard'))}> · "
                        f"{settings.CXCRM_BRAND_NAME}",
                    }
                ],
            },
        ],
    }


def teams_payload(alert: InsightAlert) -> dict[str, Any]:
    """An Adaptive Card in a message: what Teams' Workflows webhooks and the older incoming
    webhook connectors both accept; in the site's language, like Slack's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _teams_payload(alert)


def _teams_payload(alert: InsightAlert) -> dict[str, Any]:
    title = _title(alert)
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium"},
                        {"type": "TextBlock", "text": alert_summary(alert), "wrap": True},
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": gettext("Open the dashboard"),
                            "url": public_url(DASHBOARD_PATH),
                        }
                    ],
                },
            }
        ],
    }


PAYLOADS = {"slack": slack_payload, "teams": teams_payload}


def alert_chat_post(*, alert_id: int) -> dict[str, str]:
    """Post the alert to each configured channel that has not taken it yet; returns each
    channel's outcome ("sent" or the error). Not atomic: no transaction across HTTP calls."""
    alert = InsightAlert.objects.select_related("touchpoint", "topic").get(pk=alert_id)
    done: dict[str, str] = dict(alert.details.get("chat", {}))
    for name, url in chat_channels().items():
        if done.get(name) == "sent":
            continue
        done[name] = _post(url, PAYLOADS[name](alert))
    details = {**alert.details, "chat": done}
    InsightAlert.objects.filter(pk=alert_id).update(details=details)
    if all(outcome == "sent" for outcome in done.values()):
        InsightAlert.objects.filter(pk=alert_id, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
    return done


def _post(url: str, payload: dict[str, Any]) -> str:
    try:
        target = target_resolve(url)
        reply = target_post(
            target,
            body=json.dumps(payload).encode(),
            headers={
                "content-type": "application/json",
                "user-agent": f"{settings.CXCRM_BRAND_NAME}-alerts/1",
            },
            timeout=float(settings.CXCRM_WEBHOOK_TIMEOUT_SECONDS),
        )
    except (WebhookUrlError, SendError) as exc:
        log.warning("alert chat post to %s failed: %s", url, exc)
        return str(exc)[:300] or "failed"
    if 200 <= reply.status < 300:
        return "sent"
    return f"HTTP {reply.status}: {reply.body[:200]}"


@shared_task(
    bind=True,
    name="insights.alert_chat",
    soft_time_limit=60,
    time_limit=90,
    max_retries=6,
)
def alert_chat_send(self, alert_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Post an alert to Slack/Teams; a channel that failed is tried again with backoff (its
    outcome is on the alert), and the hourly evaluation re-enqueues what stayed unsent."""
    done = alert_chat_post(alert_id=alert_id)
    if any(outcome != "sent" for outcome in done.values()):
        raise self.retry(countdown=min(3600, 60 * 2**self.request.retries))
    return done


class InsightAlertDataSerializer(serializers.Serializer):
    # The schema of alert_data's dict.
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    episode = serializers.CharField(help_text="kind:subject:ISO week the episode started.")
    touchpoint = serializers.IntegerField(allow_null=True)
    topic = serializers.IntegerField(allow_null=True)
    summary = serializers.CharField()
    figures = serializers.DictField(
        help_text="The test: recent and baseline {k, n, share}, z, p_value, test."
    )
    grown_topics = serializers.ListField(
        child=serializers.DictField(),
        help_text="Topics whose share grew most: topic, name, recent_share, baseline_share, "
        "mentions.",
    )
    grown_touchpoints = serializers.ListField(
        child=serializers.DictField(),
        help_text="A topic surge: the touchpoints where the topic grew most (touchpoint, name, "
        "recent_share, baseline_share, mentions, extra_mentions: beyond the baseline share); "
        "empty for a score drop.",
    )
    raised_at = serializers.DateTimeField()


webhook_event_documented(
    name="InsightAlertEvent",
    events={INSIGHT_ALERT: "a touchpoint's score dropped or a topic surged (once per episode)."},
    data=InsightAlertDataSerializer,
    example={
        "id": 7,
        "kind": "score_drop",
        "episode": "score_drop:touchpoint:11:2026-W48",
        "touchpoint": 11,
        "topic": None,
        "summary": "Score drop at Home delivery: bad answers 14% → 46% (last 7 days: 23 of 50; "
        "28 days before: 28 of 200; p=3e-07). Topics that grew: Delivery (31% → 78%).",
        "figures": {
            "recent": {"k": 23, "n": 50, "share": 0.46},
            "baseline": {"k": 28, "n": 200, "share": 0.14},
            "z": 5.0,
            "p_value": 3e-07,
            "test": "one-sided two-proportion z-test, pooled",
        },
        "grown_topics": [
            {
                "topic": 1,
                "name": "Delivery",
                "recent_share": 0.78,
                "baseline_share": 0.31,
                "mentions": 18,
            }
        ],
        "grown_touchpoints": [],
        "raised_at": "2026-12-01T09:00:00+00:00",
    },
)
