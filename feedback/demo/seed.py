"""Demo data: a deterministic, plausible year (or, small, 90 days) of a shop's CX loop.

`demo_seed(seed=..., now=...)` upserts the reference data (staff, touchpoints, surveys, root
causes: no service makes those, and no randomness is in them), then draws customers and their
journeys from one ``random.Random(seed)`` and replays the history hour by hour through the
product's services, as if the shop had run cxcrm all along: customers are upserted, interactions
recorded in bulk (the survey rules schedule the invitations), the dispatcher claims and sends
what is due into the outbox, reminders and expiry run, customers answer, the loop opens
tickets, staff work them and resolve them with a follow-up whose answer records recovery.
Every service that stamps the time is given the replayed ``now``. The same seed and ``now``
give the same rows (tokens and Message-IDs excepted, they are random by design). Activity is
replayed only when no demo interaction exists yet, so running again adds nothing.
"""

# The texts are real Cyrillic, Chinese and Arabic, not look-alike characters.

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from customers.models import Customer, SuppressionReason
from customers.services import customer_suppress, customer_unsubscribe, customer_upsert
from feedback.demo.comments import (
    EXTRA,
    SIDE_THEMES,
    SURGE_DAYS,
    SURGE_EXTRA_VISITS,
    SURGE_TOUCHPOINT,
    SURGE_WORSE,
)
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
    STAFF,
    SURVEY_TEXT_BLOCKS,
    SURVEYS,
    TOUCHPOINTS,
    _ascii,
    _person,
)
from feedback.demo.tickets import SLA_HOURS, TicketWork, demo_saved_replies_seed
from feedback.surveys.models import (
    Invitation,
    InvitationPurpose,
    InvitationState,
    OutboundEmail,
    Response,
    Survey,
)
from feedback.surveys.scoring import BANDS, Sentiment, SurveyKind, sentiment_of
from feedback.surveys.services.dispatch import (
    invitations_claim,
    invitations_expire_due,
    invitations_remind_due,
    invitations_send_claimed,
)
from feedback.surveys.services.invitations import invitation_cancel
from feedback.surveys.services.responses import response_record
from feedback.tickets.models import RootCause, Ticket, TicketEvent, TicketMessage
from feedback.tickets.services import ticket_sync_for_response, tickets_escalate_breached
from touchpoints.models import Interaction, JourneyStage, Touchpoint
from touchpoints.services import InteractionInput, interactions_record_bulk

SOURCE = "demo"


@dataclass(frozen=True)
class DemoSize:
    days: int  # of history replayed, up to now
    customers: int
    interactions: int
    # The replay's clock: the dispatcher's beat, and the reminder, expiry and escalation
    # sweeps' (coarser: each scans the queue). A year replayed hourly through the services
    # takes minutes; every few hours keeps `make run` under a minute.
    tick: timedelta = timedelta(hours=1)
    sweep: timedelta = timedelta(hours=6)


# "full" is what `make run` shows (a year, so the dashboards' trends have solid points);
# "small" keeps the tests that seed the demo fast; "tiny" (a week) is for tests that need the
# demo's catalogue and a few of everything, not its figures.
SIZES = {
    "tiny": DemoSize(days=7, customers=30, interactions=90),
    "small": DemoSize(days=90, customers=240, interactions=1200),
    "full": DemoSize(
        days=365,
        customers=1600,
        interactions=10000,
        tick=timedelta(hours=3),
        sweep=timedelta(hours=24),
    ),
}
# Visits by weekday (Monday first) and by hour of the day: a shop's week, busiest on Monday
# evening and quiet on Saturday, and its day, quiet at night.
WEEKDAY_WEIGHTS = (1.15, 1.05, 1.0, 1.0, 0.95, 0.7, 0.85)
HOUR_WEIGHTS = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0, 1.05,
    1.1, 1.05, 1.0, 1.0, 1.0, 1.05, 1.15, 1.3, 1.3, 1.1, 0.7, 0.35,
)  # fmt: skip
GROWTH = 0.6  # the share of today's visit rate the shop had at the start of the history
LANGUAGES = ("en", "ru", "pl", "zh-hans", "ar")
# Backends that deliver nothing: the demo's customers are invented, their email must not leave.
SAFE_BACKENDS = (
    "feedback.surveys.backends.OutboxBackend",
    "django.core.mail.backends.locmem.EmailBackend",
)

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
    size: str = "full",
    progress: bool = False,
    stream: TextIO | None = None,
) -> DemoResult:
    """Create or refresh the demo data (see the module docstring); ``size`` is a key of
    SIZES. With ``progress`` a tqdm bar is drawn on ``stream`` (stderr by default) when that
    is a terminal."""
    if size not in SIZES:
        raise ValueError(f"Unknown demo size {size!r}: choose one of {', '.join(SIZES)}.")
    if settings.EMAIL_BACKEND not in SAFE_BACKENDS:
        raise ImproperlyConfigured(
            "The demo sends its emails through the product: use EMAIL_URL=outbox:// so they "
            "stay in the outbox."
        )
    staff = _upsert_staff()
    touchpoints = _upsert_touchpoints(staff)
    surveys = _upsert_surveys(touchpoints)
    causes = {
        name: RootCause.objects.update_or_create(
            name=name,
            defaults={"description": description, "active": True},
            create_defaults={"description": description, "active": True, "slug": slugify(name)},
        )[0]
        for name, (description, _, _) in ROOT_CAUSES.items()
    }
    demo_saved_replies_seed()
    if Interaction.objects.filter(source=SOURCE).exists():
        return DemoResult(seed=seed, created=False, counts=demo_counts())
    replay = _Replay(
        seed=seed, now=now or timezone.now(), size=SIZES[size], staff=staff,
        touchpoints=touchpoints, surveys=surveys, causes=causes,
    )  # fmt: skip
    replay.plan()
    ticks = int((replay.now - replay.start) / replay.size.tick) + 1
    with tqdm(
        total=ticks,
        desc=f"Replaying {SIZES[size].days} days",
        unit="h",
        file=stream,
        disable=None if progress else True,
        leave=False,
    ) as bar:
        replay.run(bar)
    return DemoResult(seed=seed, created=True, counts=demo_counts())


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
        survey = Survey.objects.filter(name=name).order_by("id").first() or Survey(
            name=name, slug=slugify(name)
        )
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


@dataclass
class _Person:
    """A customer as drawn, before and after customer_upsert gives it an id."""

    external_id: str
    fields: dict[str, Any]  # what customer_upsert takes
    segment: str
    since: datetime  # a customer since: no visit before
    currency: str
    rate: float  # per USD
    weight: float  # how often they come back
    opt_out: tuple[datetime, str] | None = None  # when, and "unsubscribed" or a reason
    pk: int = 0


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class _Replay(TicketWork):
    def __init__(
        self,
        *,
        seed: int,
        now: datetime,
        size: DemoSize,
        staff: dict[str, AbstractUser],
        touchpoints: dict[str, Touchpoint],
        surveys: dict[str, Survey],
        causes: dict[str, RootCause],
    ) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.size = size
        self.start = now - timedelta(days=size.days)
        self.staff, self.touchpoints, self.causes = staff, touchpoints, causes
        self.survey_for = surveys  # touchpoint slug -> the survey it triggers
        self.people: list[_Person] = []
        self.visits: list[tuple[datetime, _Person, str, dict[str, Any]]] = []
        self.queue: list[_Action] = []
        self.seq = 0

    def later(self, at: datetime, run: Callable[[], None]) -> None:
        """Do ``run`` at ``at`` of the replayed time (never: after ``now``)."""
        if at <= self.now:
            self.seq += 1
            heapq.heappush(self.queue, _Action(at, self.seq, run))

    # --- what will happen (drawn up front, in memory) -----------------------------------------

    def plan(self) -> None:
        self._customers()
        self._visits()

    def _customers(self) -> None:
        rng, used = self.rng, set()
        for n in range(1, self.size.customers + 1):
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
            history = self.size.days
            days = (
                rng.uniform(1, history - 1)
                if rng.random() < 0.18
                else rng.uniform(history + 1, history + 1010)
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
            fields = {
                "email": email, "name": name, "phone": phone, "language": language,
                "country": country, "segment": segment, "tags": tags, "attributes": attributes,
            }  # fmt: skip
            weight = min(rng.paretovariate(2.0), 8.0) * (2 if segment == "vip" else 1)
            self.people.append(
                _Person(
                    external_id=f"demo-cust-{n:04d}", fields=fields, segment=segment,
                    since=self.now - timedelta(days=days), currency=currency, rate=rate,
                    weight=weight,
                )
            )  # fmt: skip
        # A few store-only shoppers left no address; some others opt out or bounce on the way.
        scale = self.size.customers / SIZES["small"].customers
        no_email, unsubscribed, suppressed = round(3 * scale), round(16 * scale), round(6 * scale)
        picked = rng.sample(self.people, no_email + unsubscribed + suppressed)
        for person in picked[:no_email]:
            person.fields["email"] = ""
        reasons = (SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT,
                   SuppressionReason.MANUAL)  # fmt: skip
        for n, person in enumerate(picked[no_email:]):
            at = self.start + (self.now - self.start) * rng.random()
            how = "unsubscribed" if n < unsubscribed else reasons[n % len(reasons)]
            person.opt_out = (at, how)

    def _visits(self) -> None:
        rng, rows = self.rng, []
        weights = list(itertools.accumulate(p.weight for p in self.people))
        while len(rows) < self.size.interactions:
            person = rng.choices(self.people, cum_weights=weights)[0]
            start = self._visit_time(max(self.start, person.since))
            rows += [
                (at, person, slug, meta)
                for slug, at, meta in self._journey(person, start)
                if at <= self.now
            ]
        # The wave's promotion: more online orders in its days, hence more deliveries, all
        # through the jammed depot (the demo's alert needs the answers a real week would have).
        surge_from = max(self.start, self.now - timedelta(days=SURGE_DAYS + 3))
        extra = round(self.size.interactions * SURGE_EXTRA_VISITS * SURGE_DAYS / self.size.days)
        wave: list[tuple[datetime, _Person, str, dict[str, Any]]] = []
        while len(wave) < extra:
            person = rng.choices(self.people, cum_weights=weights)[0]
            start = self._visit_time(max(surge_from, person.since))
            wave += [
                (at, person, slug, meta)
                for slug, at, meta in self._journey(person, start, kind="online")
                if at <= self.now
            ]
        rows += wave
        rows.sort(key=lambda row: row[0])
        self.visits = rows

    def _visit_time(self, floor: datetime) -> datetime:
        """When a visit starts, after ``floor``: more often lately (the shop grows), on busy
        weekdays and in the day's busy hours (drawn by rejection, from the one rng)."""
        rng, span = self.rng, self.now - floor
        top = max(WEEKDAY_WEIGHTS) * max(HOUR_WEIGHTS)
        while True:
            at = floor + span * rng.random()
            local = timezone.localtime(at)
            growth = GROWTH + (1 - GROWTH) * (1 - (self.now - at) / (self.now - self.start))
            weight = growth * WEEKDAY_WEIGHTS[local.weekday()] * HOUR_WEIGHTS[local.hour]
            if rng.random() * top <= weight:
                return at

    def _journey(
        self, customer: _Person, t: datetime, kind: str = ""
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """One visit of the customer's path: browsing, an online or store purchase with its
        delivery, a support contact, app use, or a marketplace order we deliver."""
        rng, steps = self.rng, []

        def hours(low: float, high: float) -> timedelta:
            return timedelta(hours=rng.uniform(low, high))

        def add(slug: str, at: datetime, **meta: Any) -> None:
            steps.append((slug, at, meta))

        kind = kind or _pick(
            rng, (("browse", 18), ("online", 36), ("store", 14), ("support", 16), ("app", 10),
                  ("marketplace", 6)),
        )  # fmt: skip
        if kind == "browse":
            add(rng.choice(["search-ads", "social-media", "review-sites"]), t)
            add(rng.choice(["product-page", "product-page", "newsletter"]), t + hours(0.05, 2))
            if rng.random() < 0.3:
                add("product-page", t + hours(20, 72))
        elif kind in ("online", "store"):
            currency, rate = customer.currency, customer.rate
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

    # --- the replay ---------------------------------------------------------------------------

    def run(self, bar: tqdm) -> None:  # type: ignore[type-arg]
        for person in self.people:
            customer, _ = customer_upsert(external_id=person.external_id, **person.fields)
            person.pk = customer.pk
            if person.opt_out:
                at, how = person.opt_out
                self.later(at, lambda c=customer, at=at, how=how: self._opt_out(c, at, how))
        numbered = deque(enumerate(self.visits, start=1))
        step, every = self.size.tick, self.size.sweep // self.size.tick
        tick, last, beat = self.start + step, False, 0
        while not last:
            last = tick >= self.now
            tick = min(tick, self.now)
            while self.queue and self.queue[0].at <= tick:
                heapq.heappop(self.queue).run()
            batch = []
            while numbered and numbered[0][1][0] <= tick:
                batch.append(numbered.popleft())
            self._record(batch, tick)
            # The beat's last runs are still to come but for the final one, whose worker has
            # just claimed what became due meanwhile: the queue shows work in flight.
            if last or self.now - tick >= timedelta(hours=3):
                self._dispatch(tick, last=last)
            beat += 1
            if last or beat % every == 0:
                invitations_expire_due(now=tick)
                invitations_remind_due(now=tick)
                tickets_escalate_breached(now=tick)
            bar.update(1)
            tick += step

    def _opt_out(self, customer: Customer, at: datetime, how: str) -> None:
        if how == "unsubscribed":
            customer_unsubscribe(customer=customer, now=at)
        else:
            customer_suppress(customer_id=customer.pk, reason=how, now=at)

    def _record(
        self, batch: list[tuple[int, tuple[datetime, _Person, str, dict[str, Any]]]], at: datetime
    ) -> None:
        """Record the beat's interactions, as an integrator's bulk push; the survey rules
        schedule the invitations. Staff cancel the odd one before it goes out."""
        if not batch:
            return
        items = []
        for n, (occurred_at, person, slug, meta) in batch:
            meta = dict(meta)
            items.append(
                InteractionInput(
                    customer_id=person.pk, touchpoint_id=self.touchpoints[slug].pk,
                    occurred_at=occurred_at, source=SOURCE, external_id=f"demo-evt-{n:05d}",
                    order_ref=meta.pop("order_ref", ""), amount=meta.pop("amount", None),
                    currency=meta.pop("currency", ""), metadata=meta,
                )
            )  # fmt: skip
        results = interactions_record_bulk(items=items)
        invited = [r.id for r in results if r.invitations]
        for pk in (
            Invitation.objects.filter(interaction_id__in=invited)
            .order_by("id")
            .values_list("pk", flat=True)
        ):
            if self.rng.random() < 0.015:
                invitation_cancel(invitation_id=pk)

    def _dispatch(self, at: datetime, *, last: bool) -> None:
        """The beat's dispatch at this time. On the last one a worker has just claimed the
        latest due invitations and is still sending two of them."""
        ids, claimed_at = invitations_claim(limit=1000, now=at)
        if not ids:
            return
        sending = ids[:-2] if last else ids
        if sending:
            invitations_send_claimed(ids=sending, claimed_at=claimed_at, now=at)
        sent = (
            Invitation.objects.filter(id__in=sending, state=InvitationState.SENT)
            .select_related("survey", "customer", "interaction__touchpoint", "ticket__touchpoint")
            .order_by("id")
        )
        for invitation in sent:
            self._will_answer(invitation)

    def _will_answer(self, inv: Invitation) -> None:
        """Whether and when the customer answers the email just sent."""
        rng = self.rng
        assert inv.sent_at is not None
        followup = inv.purpose == InvitationPurpose.FOLLOWUP
        rate = 0.7 if followup else {"nps": 0.42, "csat": 0.36, "ces": 0.5}[inv.survey.kind]
        if rng.random() >= rate:
            return
        speed = rng.random()
        if speed < 0.6:
            at = inv.sent_at + timedelta(minutes=rng.expovariate(1 / 90) + 1)
        elif speed < 0.85:
            at = inv.sent_at + timedelta(hours=rng.uniform(4, 60))
        else:  # after the reminder
            reminder = inv.sent_at + timedelta(days=inv.survey.reminder_after_days or 3)
            at = reminder + timedelta(hours=rng.expovariate(1 / 8) + 1)
        if inv.expires_at and at >= inv.expires_at:
            return
        self.later(at, lambda: self._answer(inv, at, recovery=followup))

    def _score(self, kind: str, slug: str, at: datetime, *, recovery: bool = False) -> int:
        """A score spread like real data (NPS about 50/30/20), a little worse at some
        touchpoints and in the past, so the dashboards show an improving trend."""
        weights = {
            SurveyKind.NPS: [1.5, 1, 1.5, 2, 3, 5, 6, 12, 18, 20, 30],
            SurveyKind.CSAT: [5, 8, 12, 30, 45],
            SurveyKind.CES: [4, 6, 9, 11, 18, 26, 26],
        }[SurveyKind(kind)]
        age = (self.now - at) / (self.now - self.start)
        worse = 0.8 + 0.45 * age + (0.35 if slug in ("home-delivery", "support-call") else 0)
        if self.in_surge(slug, at):
            worse *= SURGE_WORSE
        if recovery:  # asked again after a resolved ticket: mostly won back
            worse = 0.4
        low = BANDS[kind][0].low
        adjusted = [
            w * (worse if sentiment_of(kind, low + i) == Sentiment.BAD else 1)
            for i, w in enumerate(weights)
        ]
        return low + self.rng.choices(range(len(weights)), weights=adjusted)[0]

    def in_surge(self, slug: str, at: datetime) -> bool:
        """Whether an answer about ``slug`` at ``at`` falls in the delivery wave."""
        return slug == SURGE_TOUCHPOINT and self.now - at <= timedelta(days=SURGE_DAYS)

    def _comment(self, slug: str, at: datetime, section: str, language: str, bad: bool) -> str:
        """What the customer writes: the wave's complaints at its touchpoint in its days, now
        and then a side theme (a wrong item, stock, a return), else the cause's or mood's."""
        rng = self.rng
        if bad and self.in_surge(slug, at):
            return rng.choice(EXTRA["Delivery surge"][language])
        side = SIDE_THEMES.get(slug)
        if bad and side is not None and rng.random() < side[1]:
            return rng.choice(EXTRA[side[0]][language])
        return rng.choice(COMMENTS[section][language])

    def _answer(self, inv: Invitation, at: datetime, *, recovery: bool) -> None:
        """The customer answers (a click in the email, the web page, or a reply); the loop opens
        the ticket an unhappy answer calls for (the task's work, done here: no worker runs)."""
        rng, kind, customer = self.rng, inv.survey.kind, inv.customer
        touchpoint = inv.interaction.touchpoint if inv.interaction else inv.ticket.touchpoint  # type: ignore[union-attr]
        assert touchpoint is not None
        score = self._score(kind, touchpoint.slug, at, recovery=recovery)
        sentiment = sentiment_of(kind, score)
        cause = _pick(
            rng, CAUSES_BY_TOUCHPOINT.get(touchpoint.slug, CAUSES_BY_TOUCHPOINT["checkout"])
        )
        if sentiment == Sentiment.BAD and self.in_surge(touchpoint.slug, at):
            cause = "Late delivery"
        topic = {"nps": "purchase", "ces": "support"}.get(kind) or (
            "app" if touchpoint.slug == "mobile-app" else "delivery"
        )
        channel = _pick(rng, (("email_click", 65), ("web", 20), ("reply", 15)))
        comment = ""
        if channel == "reply" or rng.random() < (0.85 if sentiment == Sentiment.BAD else 0.5):
            section = cause if sentiment == Sentiment.BAD else f"{sentiment} {topic}"
            bad = sentiment == Sentiment.BAD
            comment = self._comment(touchpoint.slug, at, section, customer.language, bad)
        result = response_record(
            invitation_id=inv.pk, score=score, comment=comment, channel=channel,
            language=customer.language, now=at,
        )  # fmt: skip
        opened_at = at + timedelta(seconds=rng.uniform(1, 20))
        loop = ticket_sync_for_response(response_id=result.response.pk, now=opened_at)
        if loop.created and loop.ticket is not None:
            self.work(loop.ticket, cause, opened_at)
