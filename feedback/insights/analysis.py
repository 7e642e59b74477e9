"""What customers talk about, in numbers: per topic (and per touchpoint × topic) the volume,
the share of comments, the scores of the answers that mention it and its weekly trend; the key
drivers (which topics and touchpoints move the score); and the emerging themes (recent comments
no topic covers, clustered and offered as candidate topics).

Pure reads over CommentInsight / TopicAssignment, one SQL query per figure, never the rows
(except the emerging themes, which must read embeddings). The filters are the dashboard's
(`MetricFilters`, applied by its `filter_q`) and a score is its `Summary`, both from
feedback.surveys.figures, below this module and feedback.reporting alike.

Scores: only survey answers count (comments of answers and external responses); follow-up
answers measure a ticket's recovery, as in feedback.reporting.metrics, and are left out.
Categories come from feedback.surveys.scoring; no threshold is written here.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from feedback.insights import engine
from feedback.insights.models import (
    CommentInsight,
    InsightSource,
    TextSentiment,
    Topic,
    TopicAssignment,
)
from feedback.surveys.figures.filters import MetricFilters, Paths, filter_q, survey_answers
from feedback.surveys.figures.scores import (
    KINDS,
    Z95,
    Summary,
    score_aggregates,
    summary_of,
)
from feedback.surveys.scoring import SurveyKind

# A driver's effect is shown only when both sides (answers mentioning it and the others) have
# this many answers: the dashboard's minimum for a score (an NPS of 30 answers is already
# ±30 points wide, so a difference of two is wider still).
MIN_DRIVER_SAMPLE = 30
# Answers' comments: what the scores of a topic are read from (follow-ups left out).
SCORED_SOURCES = (InsightSource.ANSWER, InsightSource.EXTERNAL)


# --- Scope --------------------------------------------------------------------------------------


# Where a comment keeps what the filters name, and the same from a topic assignment.
INSIGHT_PATHS = Paths("occurred_at", "touchpoint", "customer", "response__survey_id")
MENTION_PATHS = Paths(
    "insight__occurred_at",
    "insight__touchpoint",
    "insight__customer",
    "insight__response__survey_id",
)


def analysed(scope: MetricFilters) -> QuerySet[CommentInsight]:
    """The enriched comments of the scope (a comment not enriched yet has no topics)."""
    return CommentInsight.objects.filter(
        filter_q(scope, INSIGHT_PATHS), enriched_at__isnull=False
    ).order_by()


def mentions(scope: MetricFilters) -> QuerySet[TopicAssignment]:
    """Topic assignments in force (staff removals left out) of the scope's enriched comments."""
    return TopicAssignment.objects.filter(
        filter_q(scope, MENTION_PATHS),
        insight__enriched_at__isnull=False,
        removed=False,
        topic__active=True,
    ).order_by()


# --- Scores ------------------------------------------------------------------------------------


_SCORED_Q = Q(insight__source__in=SCORED_SOURCES, insight__response__isnull=False)


# --- Per topic ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicFigures:
    """One topic (at one touchpoint when grouped by touchpoint) over the scope."""

    topic_id: int
    slug: str
    name: str
    touchpoint_id: int | None
    touchpoint_slug: str | None
    volume: int  # comments mentioning it
    negative: int  # of those, read as negative
    positive: int
    share: float | None  # % of the analysed comments (of the touchpoint's, when grouped)
    scores: dict[str, Summary]  # kind → the answers mentioning it
    trend: list[tuple[date, int]]  # (week's Monday, comments mentioning it)


@dataclass(frozen=True)
class Totals:
    """The scope's analysed comments, and its answers' scores per kind (of commented answers
    only: the population the topic drivers compare within)."""

    comments: int
    scores: dict[str, Summary]


def totals(scope: MetricFilters) -> Totals:
    """One query: the comments and each kind's answers, as conditional aggregates."""
    aggregates: dict[str, Any] = {"comments": Count("id")}
    scored = Q(source__in=SCORED_SOURCES, response__isnull=False)
    for kind in KINDS:
        mine = scored & Q(response__kind=kind)
        aggregates |= {
            f"{kind}_{name}": aggregate
            for name, aggregate in score_aggregates("response__", where=mine).items()
        }
    row = analysed(scope).aggregate(**aggregates)
    return Totals(
        row["comments"] or 0,
        {
            kind: summary_of(kind, {k.removeprefix(f"{kind}_"): v for k, v in row.items()})
            for kind in KINDS
        },
    )


def _weeks(first: date, last: date) -> list[date]:
    day = first - timedelta(days=first.weekday())
    weeks = []
    while day <= last:
        weeks.append(day)
        day += timedelta(days=7)
    return weeks


def topic_metrics(
    scope: MetricFilters,
    *,
    by_touchpoint: bool = False,
    limit: int | None = None,
    trend: bool = True,
    comments: int | None = None,
) -> list[TopicFigures]:
    """Every mentioned topic (per touchpoint with `by_touchpoint`), most mentioned first (at
    most `limit`). Four queries whatever the volume: the comments (per touchpoint; none when
    the caller has the count, `comments`), the mentions, the mentioning answers' scores, the
    weekly trend (none with `trend` false)."""
    group = ["topic_id", "insight__touchpoint_id"] if by_touchpoint else ["topic_id"]
    names = ["topic__slug", "topic__name"]
    if by_touchpoint:
        names.append("insight__touchpoint__slug")
    if by_touchpoint:
        per_tp = analysed(scope).values("touchpoint_id").annotate(n=Count("id"))
        denominators = {r["touchpoint_id"]: r["n"] for r in per_tp}
    else:
        denominators = {None: analysed(scope).count() if comments is None else comments}
    negative = Q(insight__sentiment=TextSentiment.NEGATIVE)
    volumes = (
        mentions(scope)
        .values(*group, *names)
        .annotate(
            n=Count("id"),
            negative=Count("id", filter=negative),
            positive=Count("id", filter=Q(insight__sentiment=TextSentiment.POSITIVE)),
        )
    )
    rows = sorted(volumes, key=lambda r: (-r["n"], r["topic__name"]))
    if limit is not None:
        rows = rows[:limit]
    scores: dict[tuple[Any, ...], dict[str, Summary]] = defaultdict(dict)
    scored = (
        mentions(scope)
        .filter(_SCORED_Q)
        .values(*group, "insight__response__kind")
        .annotate(**score_aggregates("insight__response__"))
    )
    for r in scored:
        kind = r["insight__response__kind"]
        scores[tuple(r[g] for g in group)][kind] = summary_of(kind, r)
    tz = timezone.get_current_timezone()
    week = TruncWeek(TruncDate("insight__occurred_at", tzinfo=tz))
    weekly: dict[tuple[Any, ...], dict[date, int]] = defaultdict(dict)
    found_weeks = set()
    by_week = mentions(scope).annotate(week=week).values(*group, "week").annotate(n=Count("id"))
    for r in by_week if trend else ():
        start = r["week"].date() if isinstance(r["week"], datetime) else r["week"]
        weekly[tuple(r[g] for g in group)][start] = r["n"]
        found_weeks.add(start)
    if not trend:
        weeks = []
    elif scope.since is not None and scope.until is not None:
        first = timezone.localdate(scope.since)
        last = timezone.localdate(scope.until - timedelta(microseconds=1))
        weeks = _weeks(first, last)
    else:
        weeks = sorted(found_weeks)
    result = []
    for r in rows:
        key = tuple(r[g] for g in group)
        tp = r["insight__touchpoint_id"] if by_touchpoint else None
        total = denominators.get(tp, 0)
        result.append(
            TopicFigures(
                topic_id=r["topic_id"],
                slug=r["topic__slug"],
                name=r["topic__name"],
                touchpoint_id=tp,
                touchpoint_slug=r.get("insight__touchpoint__slug"),
                volume=r["n"],
                negative=r["negative"],
                positive=r["positive"],
                share=100.0 * r["n"] / total if total else None,
                scores={k: scores[key].get(k, Summary(k)) for k in KINDS},
                trend=[(w, weekly[key].get(w, 0)) for w in weeks],
            )
        )
    return result


@dataclass(frozen=True)
class Complaint:
    topic_id: int
    slug: str
    name: str
    negative: int


def top_complaints(scope: MetricFilters, *, per_touchpoint: int = 3) -> dict[int, list[Complaint]]:
    """Each touchpoint's topics with the most negative comments (the journey map). One query."""
    rows = (
        mentions(scope)
        .filter(insight__sentiment=TextSentiment.NEGATIVE, insight__touchpoint__isnull=False)
        .values("insight__touchpoint_id", "topic_id", "topic__slug", "topic__name")
        .annotate(n=Count("id"))
    )
    found: dict[int, list[Complaint]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (-r["n"], r["topic__name"])):
        complaints = found[r["insight__touchpoint_id"]]
        if len(complaints) < per_touchpoint:
            complaints.append(Complaint(r["topic_id"], r["topic__slug"], r["topic__name"], r["n"]))
    return dict(found)


# --- Key drivers --------------------------------------------------------------------------------


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (well-behaved near 0 and 1, unlike the normal)."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def risk_difference(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float]:
    """p1 − p2 with Newcombe's hybrid score interval (method 10: from the two Wilson
    intervals), in percentage points."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return 100 * d, 100 * low, 100 * high


def _net_variance(c: Summary) -> float:
    # Variance of the mean of (good − bad) indicators, in points²: the NPS margin's formula.
    pg, pb = c.good / c.n, c.bad / c.n
    return (pg + pb - (pg - pb) ** 2) / c.n * 100 * 100


@dataclass(frozen=True)
class Driver:
    """How the answers mentioning a topic (or given at a touchpoint) score against the others.
    `effect`: their net score (NPS) minus the others', with a 95% normal-approximation
    interval; `risk`: their share of bad answers (detractors) minus the others', with
    Newcombe's interval; `impact`: effect × share, the points the overall score would move if
    they scored like the others. Figures are None below the minimum sample on either side."""

    dimension: str  # "topic" or "touchpoint"
    key: int | None
    slug: str
    name: str
    n: int
    n_others: int
    share: float  # % of the answers
    net: float | None
    net_others: float | None
    effect: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None
    risk: float | None = None
    risk_low: float | None = None
    risk_high: float | None = None
    impact: float | None = None
    minimum: int = MIN_DRIVER_SAMPLE

    @property
    def enough(self) -> bool:
        return self.effect is not None

    @property
    def significant(self) -> bool:
        """The interval leaves out zero: the difference is not chance at the 95% level."""
        if self.effect_low is None or self.effect_high is None:
            return False
        return self.effect_low > 0 or self.effect_high < 0


def driver(
    dimension: str,
    key: int | None,
    slug: str,
    name: str,
    mine: Summary,
    total: Summary,
    minimum: int = MIN_DRIVER_SAMPLE,
) -> Driver:
    others = total - mine
    share = 100.0 * mine.n / total.n if total.n else 0.0
    base = Driver(dimension, key, slug, name, mine.n, others.n, share, None, None, minimum=minimum)
    if mine.n < minimum or others.n < minimum:
        return base
    assert mine.net is not None and others.net is not None
    effect = mine.net - others.net
    half = Z95 * math.sqrt(_net_variance(mine) + _net_variance(others))
    risk, risk_low, risk_high = risk_difference(mine.bad, mine.n, others.bad, others.n)
    return replace(
        base,
        net=mine.net,
        net_others=others.net,
        effect=effect,
        effect_low=effect - half,
        effect_high=effect + half,
        risk=risk,
        risk_low=risk_low,
        risk_high=risk_high,
        impact=effect * share / 100,
    )


def ranked(drivers: Iterable[Driver]) -> list[Driver]:
    """Biggest impact first (either sign), then those too small to tell, biggest first."""
    return sorted(drivers, key=lambda d: (not d.enough, -abs(d.impact or 0.0), -d.n, d.name))


def topic_drivers(
    figures: Sequence[TopicFigures],
    total: Totals,
    kind: str = SurveyKind.NPS,
    minimum: int = MIN_DRIVER_SAMPLE,
) -> list[Driver]:
    """Per topic, among the commented answers of `kind`: mentioning it against not. From
    figures already read (`topic_metrics`, not grouped by touchpoint): no query."""
    return ranked(
        driver("topic", f.topic_id, f.slug, f.name, f.scores[kind], total.scores[kind], minimum)
        for f in figures
        if f.scores[kind].n
    )


def touchpoint_drivers(
    per_touchpoint: Mapping[int | None, Summary],
    names: Mapping[int, tuple[str, str]],
    minimum: int = MIN_DRIVER_SAMPLE,
) -> list[Driver]:
    """Per touchpoint, among all the survey answers: at it against elsewhere. No query: from
    counts read by the caller (the dashboard's breakdown, or `touchpoint_counts`)."""
    kind = next(iter(per_touchpoint.values())).kind if per_touchpoint else SurveyKind.NPS
    total = sum(per_touchpoint.values(), Summary(kind))
    return ranked(
        driver("touchpoint", tp, *names.get(tp, ("", gettext("No touchpoint"))), c, total, minimum)
        for tp, c in per_touchpoint.items()
        if tp is not None
    )


def touchpoint_counts(
    scope: MetricFilters, kind: str = SurveyKind.NPS
) -> tuple[dict[int | None, Summary], dict[int, tuple[str, str]]]:
    """Each touchpoint's answers of `kind` and its (slug, name). One query."""
    rows = (
        survey_answers(scope)
        .filter(kind=kind)
        .values("touchpoint_id", "touchpoint__slug", "touchpoint__name")
        .annotate(**score_aggregates())
    )
    counts, names = {}, {}
    for r in rows:
        counts[r["touchpoint_id"]] = summary_of(kind, r)
        if r["touchpoint_id"] is not None:
            names[r["touchpoint_id"]] = (r["touchpoint__slug"], r["touchpoint__name"])
    return counts, names


# --- Emerging themes ----------------------------------------------------------------------------

DIMENSIONS = engine.DIM
# Recent comments that no topic covers: the last this many days, the newest this many at most
# (average-linkage clustering holds n² distances: 2,000 comments are 16 MB and a second); the
# languages' means are read from twice as many recent comments, covered or not.
THEME_DAYS = 30
MAX_THEME_COMMENTS = 2000
# A cluster smaller than this is an anecdote, not a theme.
MIN_THEME_SIZE = 5
# e5 puts texts of one language close together whatever they say, so each language's mean
# is taken out before clustering (a language with fewer comments than this loses the mean
# of all instead). Then the cosine distance at which two groups stop merging (average
# linkage). Measured on 49 comments written for it (four off-taxonomy themes and five
# on-taxonomy complaints, each in en/ru/pl/zh/ar; tests/unit/test_insights_analysis.py):
# raw embeddings cluster by language (adjusted Rand 0.07-0.18 at any threshold); centred, at
# 0.8 every off-taxonomy theme comes out alone with all five languages (5-6 of its 6 texts).
CENTRE_MIN = 5
THEME_DISTANCE = 0.8
QUOTES = 3


def unpack(blob: bytes | memoryview) -> np.ndarray | None:
    """An embedding as stored (models.CommentInsight: 384 little-endian float16 values), as
    float32; None for anything else (a row half-written by another version)."""
    try:
        return engine.unpack(bytes(blob))
    except ValueError:
        return None


@dataclass(frozen=True)
class Quote:
    insight_id: int
    text: str
    language: str


@dataclass(frozen=True)
class Theme:
    """A candidate topic: comments close together that no topic covers."""

    name: str  # suggested, from its most distinctive words
    words: tuple[str, ...]
    size: int
    quotes: tuple[Quote, ...]  # closest to the centre first
    languages: dict[str, int] = field(default_factory=dict)


_WORD = re.compile(r"\w+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff]+")


def words(text: str) -> set[str]:
    """A comment's words, for naming a theme: lower-cased, 3+ letters; Chinese (no spaces)
    by character pairs. Which words matter is left to frequency (no stop-word lists)."""
    found = set()
    for token in _WORD.findall(text.lower()):
        for run in _HAN.findall(token):
            found.update(run[i : i + 2] for i in range(len(run) - 1))
        token = _HAN.sub("", token)
        if len(token) >= 3 and not token.isdigit() and "_" not in token:
            found.add(token)
    return found


def _name(members: list[set[str]], everyone: Counter[str], total: int) -> tuple[str, ...]:
    """The words most typical of a cluster: in many of its comments and few of the others
    (share inside − share outside), so "the", "и", "的" never name one."""
    inside: Counter[str] = Counter()
    for ws in members:
        inside.update(ws)
    size = len(members)
    outside_n = max(total - size, 1)

    def score(w: str) -> float:
        return inside[w] / size - (everyone[w] - inside[w]) / outside_n

    # Ties go to the longer word: "wrapping" says more than "please".
    best = sorted((w for w in inside if inside[w] >= 2), key=lambda w: (-score(w), -len(w), w))
    return tuple(best[:3])


def _centred(
    matrix: np.ndarray,
    languages: Sequence[str],
    reference: np.ndarray,
    ref_languages: Sequence[str],
) -> np.ndarray:
    """Each row minus its language's mean over `reference` (all the recent comments, covered
    or not, so that one theme filling a language's untopiced comments is not taken for the
    language), or the mean of all for a rare language; unit length."""
    langs, ref_langs = np.array(languages, dtype=object), np.array(ref_languages, dtype=object)
    centred = matrix - reference.mean(axis=0)
    for lang in set(languages):
        ref_rows = ref_langs == lang
        if ref_rows.sum() >= CENTRE_MIN:
            rows = langs == lang
            centred[rows] = matrix[rows] - reference[ref_rows].mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms > 0, norms, 1.0)


def emerging_themes(
    *,
    now: datetime | None = None,
    days: int = THEME_DAYS,
    min_size: int = MIN_THEME_SIZE,
    distance: float = THEME_DISTANCE,
    limit: int = MAX_THEME_COMMENTS,
) -> list[Theme]:
    """Recent enriched comments without a topic, centred per language and clustered
    (agglomerative, average linkage, cosine: deterministic, no seed, no number of clusters to
    guess), biggest first. One query, then CPU."""
    from sklearn.cluster import AgglomerativeClustering  # imported here: seconds at startup

    since = (now or timezone.now()) - timedelta(days=days)
    covered = TopicAssignment.objects.filter(
        insight=OuterRef("pk"), removed=False, topic__active=True
    )
    # All the recent comments (their languages' means), the untopiced ones to cluster.
    rows = list(
        CommentInsight.objects.filter(
            occurred_at__gte=since, enriched_at__isnull=False, embedding__isnull=False
        )
        .annotate(covered=Exists(covered))
        .order_by("-occurred_at", "-id")
        .values_list("id", "text", "language", "embedding", "covered")[: 2 * limit]
    )
    kept, vectors, ref_languages, reference = [], [], [], []
    for row in rows:
        vector = unpack(row[3])
        if vector is None or not np.isfinite(vector).all() or np.linalg.norm(vector) == 0:
            continue
        vector = vector / np.linalg.norm(vector)
        reference.append(vector)
        ref_languages.append(row[2])
        if not row[4] and len(kept) < limit:
            kept.append(row)
            vectors.append(vector)
    if len(kept) < max(min_size, 2):
        return []
    matrix = _centred(
        np.vstack(vectors), [row[2] for row in kept], np.vstack(reference), ref_languages
    )
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
    ).fit_predict(matrix)
    vocab = [words(row[1]) for row in kept]
    everyone: Counter[str] = Counter()
    for ws in vocab:
        everyone.update(ws)
    themes = []
    for label in set(labels.tolist()):
        members = np.flatnonzero(labels == label)
        if len(members) < min_size:
            continue
        centre = matrix[members].mean(axis=0)
        closeness = matrix[members] @ (centre / np.linalg.norm(centre))
        quotes: list[Quote] = []
        seen = set()
        for i in members[np.argsort(-closeness, kind="stable")]:
            text = kept[i][1].strip()
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            quotes.append(Quote(kept[i][0], text, kept[i][2]))
            if len(quotes) == QUOTES:
                break
        top = _name([vocab[i] for i in members], everyone, len(kept))
        name = ", ".join(top[:2]).capitalize() if top else quotes[0].text[:40]
        themes.append(
            Theme(
                name=name,
                words=top,
                size=len(members),
                quotes=tuple(quotes),
                languages=dict(Counter(kept[i][2] or "?" for i in members).most_common()),
            )
        )
    return sorted(themes, key=lambda t: (-t.size, t.name))


# The page caches its themes (clustering takes up to ~2 s) under a key made of what changes
# them, so a change is seen at once and an entry nobody asks for again just expires.
THEMES_CACHE_SECONDS = 24 * 3600


def themes_key(*, now: datetime, days: int = THEME_DAYS) -> str:
    """What the emerging themes depend on, as a cache key. Two small queries: the window's
    comments (how many, the newest id, the last enrichment and the versions that enriched
    them: a new, erased or re-enriched comment changes it) and the taxonomy (its active
    topics and its last change: a topic added, edited or switched off changes what is
    covered). A staff correction re-enriches every comment (the version changes), and so
    shows once that has run."""
    since = now - timedelta(days=days)
    window = CommentInsight.objects.filter(
        occurred_at__gte=since, enriched_at__isnull=False, embedding__isnull=False
    ).aggregate(
        n=Count("id"),
        last=Max("id"),
        enriched=Max("enriched_at"),
        version=Max("model_version"),
    )
    taxonomy = Topic.objects.aggregate(
        n=Count("id", filter=Q(active=True)), changed=Max("updated_at")
    )
    parts = (engine.MODEL_VERSION, days, *window.values(), *taxonomy.values())
    return "cxcrm:insights:themes:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def emerging_themes_cached(*, now: datetime | None = None) -> list[Theme]:
    """`emerging_themes` as the page shows them: clustered once per state of the data."""
    now = now or timezone.now()
    key = themes_key(now=now)
    themes = cache.get(key)
    if themes is None:
        themes = emerging_themes(now=now)
        cache.set(key, themes, THEMES_CACHE_SECONDS)
    return themes


def topic_from_theme(name: str, quote_ids: Sequence[int], description: str = "") -> Topic:
    """A Manager turns a theme into a topic: its examples are the quotes (read again from the
    comments by id, so a page posted later cannot put other text in). The next enrichment
    (the taxonomy changed) assigns it."""
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = gettext("Give the topic a name.")
    elif len(name) > Topic._meta.get_field("name").max_length:  # type: ignore[operator]
        errors["name"] = gettext("At most 80 characters.")
    texts = list(
        CommentInsight.objects.filter(pk__in=list(quote_ids)[:10]).values_list("text", flat=True)
    )
    if not texts:
        errors["quotes"] = gettext(
            "The theme's comments are gone (erased or re-enriched); reload the page."
        )
    if not errors and Topic.objects.filter(name__iexact=name).exists():
        errors["name"] = gettext("A topic named “%(name)s” exists already.") % {"name": name}
    if errors:
        raise ValidationError(errors)
    base = slugify(name)[:70] or "theme"
    slug, n = base, 1
    while Topic.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    try:
        with transaction.atomic():
            return Topic.objects.create(
                name=name,
                slug=slug,
                description=description.strip(),
                examples=[t.strip()[:300] for t in texts],
            )
    except IntegrityError:  # the same name or slug saved meanwhile by someone else
        raise ValidationError(
            {"name": gettext("A topic named “%(name)s” exists already.") % {"name": name}}
        ) from None
