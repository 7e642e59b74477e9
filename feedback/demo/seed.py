"""Demo data: a deterministic, plausible 90 days of a shop's customer-experience loop.

`demo_seed(seed=..., now=...)` first upserts the reference data (staff, touchpoints, surveys,
root causes: no randomness in them), then draws customers and all activity in memory from one
``random.Random(seed)``, so the same seed and ``now`` always give the same rows whatever the
database holds. Invitation tokens are the exception: they are credentials, so they stay
``secrets``-random. Customers are upserted by external_id; the transactional rows
(interactions, invitations, responses, tickets, emails) are written with ``bulk_create`` only
when no demo interaction exists yet. Everything runs in one transaction.
"""

# The texts are real Cyrillic, Chinese and Arabic, not look-alike characters.

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import models, transaction
from django.utils import timezone
from tqdm import tqdm

from customers.models import Customer, SuppressionReason
from feedback.demo.data import (
    BASKETS,
    CAUSES_BY_TOUCHPOINT,
    COMMENTS,
    COMPANIES,
    LANGUAGE_WEIGHTS,
    MAIL_DOMAINS,
    PLACES,
    ROOT_CAUSES,
    SEGMENTS,
    SEND_ERRORS,
    STAFF,
    SURVEY_TEXT_BLOCKS,
    SURVEYS,
    TOUCHPOINTS,
    _ascii,
    _person,
)
from feedback.demo.tickets import SLA_HOURS, TicketsMixin, _TicketPlan
from feedback.surveys.models import (
    EmailKind,
    EmailStatus,
    Invitation,
    InvitationPurpose,
    InvitationState,
    OutboundEmail,
    Response,
    ResponseChannel,
    Survey,
)
from feedback.surveys.scoring import BANDS, Sentiment, SurveyKind, categorize, sentiment_of
from feedback.tickets.models import RootCause, Ticket, TicketEvent, TicketMessage
from touchpoints.models import Interaction, JourneyStage, Touchpoint

SOURCE = "demo"
HISTORY_DAYS = 90
N_CUSTOMERS = 240
N_INTERACTIONS = 1200
BATCH_SIZE = 500
LANGUAGES = ("en", "ru", "pl", "zh-hans", "ar")

# --- Entry point --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    seed: int
    created: bool  # False: demo activity existed already; only reference data was refreshed
    counts: dict[str, int]


def demo_counts() -> dict[str, int]:
    return {
        "staff users": get_user_model().objects.filter(is_staff=True).count(),
        "touchpoints": Touchpoint.objects.count(),
        "customers": Customer.objects.count(),
        "interactions": Interaction.objects.count(),
        "surveys": Survey.objects.count(),
        "invitations": Invitation.objects.count(),
        "responses": Response.objects.count(),
        "root causes": RootCause.objects.count(),
        "tickets": Ticket.objects.count(),
        "ticket messages": TicketMessage.objects.count(),
        "ticket events": TicketEvent.objects.count(),
        "outbound emails": OutboundEmail.objects.count(),
    }


@transaction.atomic
def demo_seed(
    *,
    seed: int = 42,
    now: datetime | None = None,
    progress: bool = False,
    stream: TextIO | None = None,
) -> DemoResult:
    """Create or refresh the demo data (see the module docstring). With ``progress`` a tqdm
    bar is drawn on ``stream`` (stderr by default) when that is a terminal."""
    staff = _upsert_staff()
    touchpoints = _upsert_touchpoints(staff)
    surveys = _upsert_surveys(touchpoints)
    causes = {
        name: RootCause.objects.update_or_create(
            name=name, defaults={"description": description, "active": True}
        )[0]
        for name, (description, _, _) in ROOT_CAUSES.items()
    }
    builder = _Builder(
        seed=seed, now=now or timezone.now(), staff=staff, touchpoints=touchpoints,
        surveys=surveys, causes=causes,
    )  # fmt: skip
    builder.generate()
    present = Interaction.objects.filter(source=SOURCE).exists()
    total = len(builder.customers) + (0 if present else builder.activity_rows())
    with tqdm(
        total=total,
        desc="Seeding demo data",
        unit="row",
        file=stream,
        disable=None if progress else True,
        leave=False,
    ) as bar:
        # With activity in place the customers stay as they are: their language and names
        # must keep matching the comments and messages already written for them.
        builder.write_customers(bar, update=not present)
        if not present:
            builder.write_activity(bar)
    return DemoResult(seed=seed, created=not present, counts=demo_counts())


def _upsert_staff() -> dict[str, AbstractUser]:
    """The demo agents; existing accounts of the same name are used as they are."""
    user_model = get_user_model()
    staff: dict[str, AbstractUser] = {}
    for username, first, last in STAFF:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@staff.example.com",
                "is_staff": True,
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            # The Agent role (a group made by a migration) lets them work tickets and puts
            # them in the round-robin for new ones.
            agents = Group.objects.filter(name="Agent").first()
            if agents is not None:
                user.groups.add(agents)
        staff[username] = user
    return staff


def _upsert_touchpoints(staff: dict[str, AbstractUser]) -> dict[str, Touchpoint]:
    touchpoints: dict[str, Touchpoint] = {}
    for slug, name, stage, channel, ownership, team, owner in TOUCHPOINTS:
        touchpoints[slug], _ = Touchpoint.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": f"{name}: {JourneyStage(stage).label.lower()} stage, {team}.",
                "stage": stage,
                "channel": channel,
                "ownership": ownership,
                "owner_team": team,
                "owner": staff[owner] if owner else None,
                "active": True,
            },
        )
    return touchpoints


def _upsert_surveys(touchpoints: dict[str, Touchpoint]) -> dict[str, Survey]:
    """Surveys by name, and which survey each touchpoint's interactions trigger."""
    by_slug: dict[str, Survey] = {}
    for name, kind, stage, slugs, delay, frequency in SURVEYS:
        texts: dict[str, Any] = {}
        for language, lines in SURVEY_TEXT_BLOCKS[kind].items():
            subject, question, *followups = lines
            categories = [str(band.category) for band in BANDS[kind]]
            texts[language] = {
                "subject": subject,
                "question": question,
                "followup": dict(zip(categories, followups, strict=True)),
            }
        survey = Survey.objects.filter(name=name).order_by("id").first() or Survey(name=name)
        survey.kind, survey.trigger_stage, survey.delay, survey.texts = kind, stage, delay, texts
        survey.reminder_after_days, survey.expires_after_days = 3, 14
        survey.sla_hours, survey.loop_enabled, survey.active = SLA_HOURS, True, True
        survey.default_language, survey.contact_frequency_days = "en", frequency
        survey.save()
        survey.trigger_touchpoints.set([touchpoints[s] for s in slugs])
        for slug, touchpoint in touchpoints.items():
            if slug in slugs or touchpoint.stage == stage:
                by_slug[slug] = survey
    return by_slug


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


class _Builder(TicketsMixin):
    def __init__(
        self,
        *,
        seed: int,
        now: datetime,
        staff: dict[str, AbstractUser],
        touchpoints: dict[str, Touchpoint],
        surveys: dict[str, Survey],
        causes: dict[str, RootCause],
    ) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.start = now - timedelta(days=HISTORY_DAYS)
        self.staff, self.touchpoints, self.causes = staff, touchpoints, causes
        self.survey_for = surveys  # touchpoint slug -> the survey it triggers
        self.customers: list[Customer] = []
        self.weight: list[float] = []
        self.fx: dict[int, tuple[str, float]] = {}  # id(customer) -> (currency, per USD)
        self.unsubscribed: list[Customer] = []
        self.suppressed: list[Customer] = []
        self.interactions: list[Interaction] = []
        self.invitations: list[Invitation] = []
        self.answer_at: dict[int, datetime] = {}  # id(invitation) -> when it is answered
        self.responses: list[Response] = []
        self.cause_of: dict[int, str] = {}  # id(response) -> root cause of an unhappy one
        self.plans: list[_TicketPlan] = []
        self.followups: list[Invitation] = []
        self.followup_responses: list[Response] = []
        self.emails: list[OutboundEmail] = []
        self.message_n = 0

    def generate(self) -> None:
        self._customers()
        self._interactions()
        self._invitations()
        for inv in self.invitations:
            if inv.state == InvitationState.RESPONDED:
                assert inv.interaction is not None
                touchpoint = inv.interaction.touchpoint
                self.responses.append(self._answer(inv, touchpoint, self.answer_at[id(inv)]))
        self._tickets()
        self._emails()

    def activity_rows(self) -> int:
        tickets = sum(1 + len(p.messages) + len(p.events) for p in self.plans)
        return (
            len(self.interactions) + len(self.invitations) + len(self.responses) + tickets
            + len(self.followups) + len(self.followup_responses) + len(self.emails)
        )  # fmt: skip

    # --- customers and what they did ----------------------------------------------------------

    def _customers(self) -> None:
        rng, used = self.rng, set()
        for n in range(1, N_CUSTOMERS + 1):
            language = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
            name, first, last = _person(rng, language)
            places = PLACES[language]
            country, currency, rate, _ = rng.choices(places, weights=[p[3] for p in places])[0]
            segment = _pick(rng, SEGMENTS)
            company = rng.choice(COMPANIES) if segment in ("smb", "enterprise") else ""
            domain = f"{_ascii(company).lower()}.example" if company else rng.choice(MAIL_DOMAINS)
            local = f"{_ascii(first)}.{_ascii(last)}".lower()
            email, k = f"{local}@{domain}", 1
            while email in used:
                k += 1
                email = f"{local}{k}@{domain}"
            used.add(email)
            days = (
                rng.uniform(1, HISTORY_DAYS - 1) if rng.random() < 0.18 else rng.uniform(91, 1100)
            )
            tags = [
                t for t in ("newsletter", "loyalty", "app-user", "returning") if rng.random() < 0.3
            ]
            attributes: dict[str, Any] = {
                "loyalty_points": rng.randrange(0, 5000, 10),
                "signup_source": rng.choice(["web", "store", "app", "referral"]),
            }
            if company:
                tags.append("b2b")
                attributes["company"] = company
            phone = ""
            if country == "GB" and rng.random() < 0.6:
                phone = f"+44 7700 900{rng.randrange(1000):03d}"  # Ofcom's range for drama
            elif country == "US" and rng.random() < 0.6:
                phone = f"+1 202-555-01{rng.randrange(100):02d}"  # reserved, fictional
            customer = Customer(
                external_id=f"demo-cust-{n:04d}",
                email=email,
                name=name,
                phone=phone,
                language=language,
                country=country,
                segment=segment,
                tags=tags,
                attributes=attributes,
                created_at=self.now - timedelta(days=days),
            )
            self.customers.append(customer)
            self.fx[id(customer)] = (currency, rate)
            self.weight.append(min(rng.paretovariate(2.0), 8.0) * (2 if segment == "vip" else 1))
        # A few store-only shoppers left no address; opt-outs are timed once activity is known.
        picked = rng.sample(self.customers, 3 + 16 + 6)
        for customer in picked[:3]:
            customer.email = ""
        self.unsubscribed, self.suppressed = picked[3:19], picked[19:]

    def _journey(
        self, customer: Customer, t: datetime
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """One visit of the customer's path: browsing, an online or store purchase with its
        delivery, a support contact, app use, or a marketplace order we deliver."""
        rng, steps = self.rng, []

        def hours(low: float, high: float) -> timedelta:
            return timedelta(hours=rng.uniform(low, high))

        def add(slug: str, at: datetime, **meta: Any) -> None:
            steps.append((slug, at, meta))

        kind = _pick(
            rng, (("browse", 18), ("online", 36), ("store", 14), ("support", 16), ("app", 10),
                  ("marketplace", 6)),
        )  # fmt: skip
        if kind == "browse":
            add(rng.choice(["search-ads", "social-media", "review-sites"]), t)
            add(rng.choice(["product-page", "product-page", "newsletter"]), t + hours(0.05, 2))
            if rng.random() < 0.3:
                add("product-page", t + hours(20, 72))
        elif kind in ("online", "store"):
            currency, rate = self.fx[id(customer)]
            value = rng.lognormvariate(*BASKETS[customer.segment]) * rate
            amount = Decimal(round(value) if rate > 20 else round(value, 2)).quantize(
                Decimal("0.01")
            )
            sale = {"order_ref": f"SO-{rng.randrange(100000, 999999)}", "amount": amount,
                    "currency": currency, "items": rng.randint(1, 5)}  # fmt: skip
            if kind == "store":
                add("store-visit", t, store=rng.choice(["Central", "Riverside", "Airport"]))
                add("store-checkout", t + hours(0.1, 0.7), **sale)
                return steps
            if rng.random() < 0.4:
                add(rng.choice(["search-ads", "social-media", "newsletter"]), t)
                t += hours(0.05, 1)
            device = rng.choice(["mobile", "desktop", "tablet"])
            add("product-page", t, device=device)
            t += hours(0.1, 0.7)
            add("checkout", t, device=device, **sale)
            if customer.segment in ("smb", "enterprise") and rng.random() < 0.5:
                add("invoice-billing", t + hours(1, 20), **sale)
            else:
                add("card-payment", t + hours(0.01, 0.05), **sale)
            order = {"order_ref": sale["order_ref"]}
            if rng.random() < 0.35:
                add("mobile-app", t + hours(4, 30), feature="order tracking")
            if rng.random() < 0.8:
                t += hours(24, 96)
                add("home-delivery", t, **order, carrier=rng.choice(["SwiftParcel", "CityCourier"]))
                if rng.random() < 0.45:
                    add("packaging", t + hours(0.2, 6), **order)
            else:
                t += hours(20, 50)
                add("click-collect", t, **order)
            if rng.random() < 0.15:
                add(
                    rng.choice(["live-chat", "support-call", "returns"]), t + hours(2, 120), **order
                )
        elif kind == "support":
            if rng.random() < 0.5:
                add("help-center", t)
                t += hours(0.05, 1)
            topic = rng.choice(["order status", "return", "billing", "account"])
            add(
                rng.choice(["live-chat", "support-call", "support-call", "returns"]), t, topic=topic
            )
        elif kind == "app":
            add("mobile-app", t, feature="browse")
            if rng.random() < 0.5:
                add("mobile-app", t + hours(24, 240), feature="wishlist")
        else:
            order = {"order_ref": f"MP-{rng.randrange(100000, 999999)}", "marketplace": True}
            add("home-delivery", t, **order)
            if rng.random() < 0.5:
                add("packaging", t + hours(0.2, 4), **order)
        return steps

    def _interactions(self) -> None:
        rng, rows = self.rng, []
        while len(rows) < N_INTERACTIONS:
            customer = rng.choices(self.customers, weights=self.weight)[0]
            floor = max(self.start, customer.created_at)
            start = floor + (self.now - floor) * rng.random()
            rows += [
                (at, customer, slug, meta)
                for slug, at, meta in self._journey(customer, start)
                if at <= self.now
            ]
        rows.sort(key=lambda row: row[0])
        for n, (at, customer, slug, meta) in enumerate(rows, start=1):
            self.interactions.append(
                Interaction(
                    customer=customer,
                    touchpoint=self.touchpoints[slug],
                    occurred_at=at,
                    source=SOURCE,
                    external_id=f"demo-evt-{n:05d}",
                    order_ref=meta.pop("order_ref", ""),
                    amount=meta.pop("amount", None),
                    currency=meta.pop("currency", ""),
                    metadata=meta,
                    created_at=at + timedelta(seconds=rng.uniform(1, 90)),
                )
            )

    # --- invitations and answers --------------------------------------------------------------

    def _invitations(self) -> None:
        rng, now = self.rng, self.now
        default_days = int(settings.CXCRM_CONTACT_FREQUENCY_DAYS)
        contacted: dict[int, list[datetime]] = {}
        planned: list[tuple[Interaction, Survey, datetime]] = []
        # The scheduling rules of feedback.surveys.services.invitations replayed in arrival order:
        # an address, one survey per interaction, nobody twice within the frequency window.
        for interaction in self.interactions:
            survey = self.survey_for.get(interaction.touchpoint.slug)
            if survey is None or not interaction.customer.email:
                continue
            due = interaction.occurred_at + survey.delay
            days = survey.contact_frequency_days
            window = timedelta(days=default_days if days is None else days)
            times = contacted.setdefault(id(interaction.customer), [])
            if window and any(abs(due - t) < window for t in times):
                continue
            times.append(due)
            planned.append((interaction, survey, due))
        # Opt-outs, timed in the customer's history; most of them between an interaction and
        # its invitation's send time, so the dispatcher's last check has something to show.
        lost: dict[int, tuple[datetime, bool]] = {}  # id(customer) -> (when, unsubscribed)
        reasons = list(SuppressionReason)
        for n, customer in enumerate(self.unsubscribed + self.suppressed):
            mine = [(i, d) for i, _, d in planned if i.customer is customer and d <= now]
            if mine and rng.random() < 0.6:
                interaction, due = rng.choice(mine)
                at = interaction.created_at + (due - interaction.created_at) * rng.uniform(0.2, 0.9)
            else:
                floor = max(customer.created_at, now - timedelta(days=400))
                at = floor + (now - floor) * rng.random()
            if customer in self.unsubscribed:
                customer.unsubscribed_at = at
            else:
                reason = reasons[n % len(reasons)]
                customer.suppressed_at, customer.suppression_reason = at, reason
                customer.soft_bounce_count = 3 if reason == SuppressionReason.SOFT_BOUNCES else 0
            lost[id(customer)] = (at, customer.unsubscribed_at is not None)
        for interaction, survey, due in planned:
            gone_at, unsubscribed = lost.get(id(interaction.customer), (None, False))
            if gone_at and gone_at <= interaction.created_at:
                continue  # never created: the customer was unreachable already
            inv = Invitation(
                survey=survey,
                customer=interaction.customer,
                interaction=interaction,
                purpose=InvitationPurpose.SURVEY,
                scheduled_for=due,
                expires_at=due + timedelta(days=survey.expires_after_days),
                created_at=interaction.created_at,
            )
            if gone_at and gone_at <= due and unsubscribed:
                inv.state, inv.last_error = InvitationState.CANCELLED, "Customer unsubscribed"
            elif gone_at and gone_at <= due:
                inv.state = InvitationState.SUPPRESSED
                inv.last_error = (
                    "Customer suppressed: "
                    + interaction.customer.get_suppression_reason_display().lower()
                )
            elif due > now:
                inv.state = InvitationState.SCHEDULED
            else:
                self._dispatch(inv)
            self.invitations.append(inv)
        # A worker has just claimed the latest due ones and is sending them.
        done = ("sent", "responded", "expired")
        for inv in sorted((i for i in self.invitations if i.state in done), key=_scheduled)[-2:]:
            inv.state, inv.sent_at, inv.reminded_at, inv.message_id = "sending", None, None, ""
            claimed = now - timedelta(seconds=rng.uniform(5, 90))
            inv.claimed_at, inv.attempts = max(claimed, inv.scheduled_for), 1
            self.answer_at.pop(id(inv), None)

    def _message_id(self, kind: str) -> str:
        self.message_n += 1
        return f"<{kind}.{self.message_n}.{self.rng.getrandbits(40):010x}@demo.cxcrm.example>"

    def _dispatch(self, inv: Invitation, *, answer_rate: float | None = None) -> None:
        """What became of a due invitation: sent (and answered, or not, or expired), failed
        after its retries, or cancelled by staff."""
        rng, now = self.rng, self.now
        roll = rng.random()
        claimed = inv.scheduled_for + timedelta(seconds=rng.uniform(1, 60))
        if answer_rate is None and roll < 0.035:
            inv.state, inv.attempts = InvitationState.FAILED, rng.randint(3, 5)
            inv.last_error = rng.choice(SEND_ERRORS)
            inv.claimed_at = claimed + timedelta(minutes=10 * 2 ** (inv.attempts - 1))  # backoff
            return
        if answer_rate is None and roll < 0.05:
            inv.state, inv.last_error = InvitationState.CANCELLED, "Cancelled by staff"
            return
        inv.claimed_at = claimed
        inv.sent_at = claimed + timedelta(seconds=rng.uniform(1, 20))
        inv.attempts = 2 if rng.random() < 0.06 else 1
        inv.message_id = self._message_id("inv")
        rate = answer_rate or {"nps": 0.42, "csat": 0.36, "ces": 0.5}[inv.survey.kind]
        reminder = inv.sent_at + timedelta(days=inv.survey.reminder_after_days or 3)
        answer_at: datetime | None = None
        if rng.random() < rate:
            speed = rng.random()
            if speed < 0.6:
                answer_at = inv.sent_at + timedelta(minutes=rng.expovariate(1 / 90) + 1)
            elif speed < 0.85:
                answer_at = inv.sent_at + timedelta(hours=rng.uniform(4, 60))
            else:  # answered after the reminder
                answer_at = reminder + timedelta(hours=rng.expovariate(1 / 8))
        expires_at = inv.expires_at or now
        if answer_at and answer_at < min(now, expires_at):
            inv.state = InvitationState.RESPONDED
            self.answer_at[id(inv)] = answer_at
        elif expires_at <= now:
            inv.state = InvitationState.EXPIRED
        else:
            inv.state = InvitationState.SENT
        if reminder < min(now, expires_at, answer_at or expires_at):
            inv.reminded_at = reminder

    def _score(self, kind: str, slug: str, at: datetime, *, recovery: bool = False) -> int:
        """A score spread like real data (NPS about 50/30/20), a little worse at some
        touchpoints and in the past, so the dashboards show an improving trend."""
        weights = {
            SurveyKind.NPS: [1.5, 1, 1.5, 2, 3, 5, 6, 12, 18, 20, 30],
            SurveyKind.CSAT: [5, 8, 12, 30, 45],
            SurveyKind.CES: [4, 6, 9, 11, 18, 26, 26],
        }[SurveyKind(kind)]
        age = (self.now - at) / timedelta(days=HISTORY_DAYS)
        worse = 0.8 + 0.45 * age + (0.35 if slug in ("home-delivery", "support-call") else 0)
        if recovery:  # asked again after a resolved ticket: mostly won back
            worse = 0.4
        low = BANDS[kind][0].low
        adjusted = [
            w * (worse if sentiment_of(kind, low + i) == Sentiment.BAD else 1)
            for i, w in enumerate(weights)
        ]
        return low + self.rng.choices(range(len(weights)), weights=adjusted)[0]

    def _answer(
        self, inv: Invitation, touchpoint: Touchpoint, at: datetime, *, recovery: bool = False
    ) -> Response:
        rng, kind, customer = self.rng, inv.survey.kind, inv.customer
        score = self._score(kind, touchpoint.slug, at, recovery=recovery)
        sentiment = sentiment_of(kind, score)
        cause = _pick(
            rng, CAUSES_BY_TOUCHPOINT.get(touchpoint.slug, CAUSES_BY_TOUCHPOINT["checkout"])
        )
        topic = {"nps": "purchase", "ces": "support"}.get(kind) or (
            "app" if touchpoint.slug == "mobile-app" else "delivery"
        )
        channel = _pick(rng, (("email_click", 65), ("web", 20), ("reply", 15)))
        comment = ""
        if channel == "reply" or rng.random() < (0.85 if sentiment == Sentiment.BAD else 0.5):
            section = cause if sentiment == Sentiment.BAD else f"{sentiment} {topic}"
            comment = rng.choice(COMMENTS[section][customer.language])
        response = Response(
            invitation=inv,
            survey=inv.survey,
            kind=kind,
            customer=customer,
            touchpoint=touchpoint,
            score=score,
            category=categorize(kind, score),
            comment=comment,
            language=customer.language,
            channel=ResponseChannel(channel),
            submitted_at=at,
        )
        self.cause_of[id(response)] = cause
        return response

    def _emails(self) -> None:
        """The outbox holds the latest survey emails (the older ones were pruned)."""
        for inv in sorted((i for i in self.invitations if i.sent_at), key=_sent)[-25:]:
            subject, question, *_ = SURVEY_TEXT_BLOCKS[inv.survey.kind][inv.customer.language]
            self.emails.append(
                OutboundEmail(
                    to_email=inv.customer.email,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    subject=subject,
                    kind=EmailKind.SURVEY,
                    status=EmailStatus.OUTBOX,
                    message_id=inv.message_id,
                    body_text=f"{question}\n\n{settings.SITE_URL}/s/{inv.token}/",
                    customer=inv.customer,
                    invitation=inv,
                    created_at=inv.sent_at,
                    sent_at=inv.sent_at,
                )
            )

    # --- writing ------------------------------------------------------------------------------

    def write_customers(self, bar: tqdm, *, update: bool) -> None:  # type: ignore[type-arg]
        """Upsert by external_id (or, without ``update``, add only the missing ones). Existing
        rows get the descriptive fields only: consent is the customer's own (a re-seed must
        never re-subscribe anyone) and erased rows stay erased."""
        erased = set(
            Customer.objects.filter(
                external_id__in=[c.external_id for c in self.customers], erased_at__isnull=False
            ).values_list("external_id", flat=True)
        )
        options: dict[str, Any] = {"ignore_conflicts": True}
        if update:
            options = {
                "update_conflicts": True,
                "unique_fields": ["external_id"],
                "update_fields": [
                    "email", "name", "phone", "language", "country", "segment", "tags",
                    "attributes",
                ],
            }  # fmt: skip
        _bulk(bar, [c for c in self.customers if c.external_id not in erased], **options)
        ids = dict(
            Customer.objects.filter(external_id__in=[c.external_id for c in self.customers])
            .values_list("external_id", "pk")
        )  # fmt: skip
        for customer in self.customers:
            customer.pk = ids[customer.external_id]
        bar.update(len(erased))

    def write_activity(self, bar: tqdm) -> None:  # type: ignore[type-arg]
        _bulk(bar, self.interactions)
        _bulk(bar, self.invitations)
        _bulk(bar, self.responses)
        _bulk(bar, [p.ticket for p in self.plans])
        _bulk(bar, [m for p in self.plans for m in p.messages])
        _bulk(bar, [e for p in self.plans for e in p.events])
        _bulk(bar, self.followups)
        _bulk(bar, self.followup_responses)
        _bulk(bar, self.emails)


def _scheduled(invitation: Invitation) -> datetime:
    return invitation.scheduled_for


def _sent(invitation: Invitation) -> datetime:
    assert invitation.sent_at is not None
    return invitation.sent_at


def _bulk(bar: tqdm, objs: Sequence[models.Model], **options: Any) -> None:  # type: ignore[type-arg]
    """bulk_create in batches, advancing the progress bar. The backends we run on (SQLite,
    PostgreSQL) return the new primary keys, which the dependent rows written next need."""
    if not objs:
        return
    model = type(objs[0])
    for start in range(0, len(objs), BATCH_SIZE):
        batch = list(objs[start : start + BATCH_SIZE])
        model.objects.bulk_create(batch, **options)  # type: ignore[attr-defined]
        bar.update(len(batch))
